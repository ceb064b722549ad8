package tokenauth

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/switchyard/switchyard/provider"
)

const (
	gcpTokenURI     = "https://oauth2.googleapis.com/token"
	gcpDefaultScope = "https://www.googleapis.com/auth/cloud-platform"
)

// serviceAccount holds the fields of a service account key file that are
// checked before x/oauth2/google reads it.
type serviceAccount struct {
	Type        string `json:"type"`
	ClientEmail string `json:"client_email"`
	PrivateKey  string `json:"private_key"`
	TokenURI    string `json:"token_uri"`
}

// newGCP builds gcp_service_account: secret service_account_json, config
// scopes. The key signs a JWT assertion that the JSON's token_uri exchanges
// for an access token.
//
// Only "service_account" keys are accepted: external_account and
// impersonated_service_account files carry more URLs (credential_source.url,
// service_account_impersonation_url) that Google's libraries fetch without
// checking. token_uri must be https; the guarded client decides which
// addresses it may reach.
func newGCP(c creds, opts provider.AuthOptions) (provider.Authenticator, error) {
	raw, err := c.secret("service_account_json")
	if err != nil {
		return nil, err
	}
	var sa serviceAccount
	if err := json.Unmarshal([]byte(raw), &sa); err != nil {
		// json's messages quote at most one character of the input; show
		// only where it went wrong all the same.
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return nil, c.errorf("the service account JSON is not valid JSON (error at byte %d)", syn.Offset)
		case errors.As(err, &typ) && typ.Field != "":
			return nil, c.errorf("the service account JSON's %q field is not a string", typ.Field)
		}
		return nil, c.errorf("the service account JSON is not a JSON object")
	}
	switch {
	case sa.Type == "":
		return nil, c.errorf(`the service account JSON has no "type" field (expected "service_account")`)
	case sa.Type != "service_account":
		return nil, c.errorf(`the service account JSON has type %q; only "service_account" keys are supported`, provider.Truncate(sa.Type, 40))
	case sa.ClientEmail == "":
		return nil, c.errorf(`the service account JSON has no "client_email" field`)
	case sa.PrivateKey == "":
		return nil, c.errorf(`the service account JSON has no "private_key" field`)
	}
	if !rsaKey(sa.PrivateKey) {
		return nil, c.errorf(`the service account JSON's "private_key" field is not a PEM-encoded RSA private key`)
	}
	tokenURI := gcpTokenURI
	if sa.TokenURI != "" {
		tokenURI = sa.TokenURI
	}
	u, err := checkTokenURL(c, "the service account JSON's token_uri", tokenURI, "https")
	if err != nil {
		return nil, err
	}
	if opts.HTTP == nil {
		return nil, fmt.Errorf("tokenauth: %s needs an HTTP client for token fetches", c.cred.Method)
	}
	cfg, err := google.JWTConfigFromJSON([]byte(raw), splitScopes(c.optionalConfig("scopes", gcpDefaultScope))...)
	if err != nil {
		// Checked above; do not show the library's text, which may quote
		// the file.
		return nil, c.errorf("the service account JSON cannot be read")
	}
	cfg.TokenURL = u.String()
	return newBearer(u.Host, opts.HTTP, opts.Now, func(ctx context.Context) (*oauth2.Token, error) {
		// TokenSource(ctx).Token() signs a new assertion and fetches every
		// time; bearer caches.
		return cfg.TokenSource(ctx).Token()
	}), nil
}

// rsaKey reports whether s is a PEM-encoded PKCS#8 or PKCS#1 RSA private
// key, as x/oauth2/jwt requires.
func rsaKey(s string) bool {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return false
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		_, ok := k.(*rsa.PrivateKey)
		return ok
	}
	_, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	return err == nil
}
