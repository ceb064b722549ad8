// Package tokenauth implements the token-based auth methods of provider
// credentials: OAuth2 client credentials, Azure AD (Entra ID), GCP service
// accounts and AWS Signature Version 4. Factory is a
// provider.TokenAuthFactory; the provider package stays free of the OAuth2
// and AWS libraries.
//
// # Token fetches
//
// Token URLs come from admins (token_url, authority_host, the service
// account JSON's token_uri), so every fetch goes through AuthOptions.HTTP,
// the SSRF-guarded netguard client in production. Factory refuses to build
// a token method without it rather than fall back to http.DefaultClient.
//
// Tokens are cached and refreshed 60 s before they expire (half their
// lifetime for tokens shorter than two minutes), on the AuthOptions clock.
// Concurrent requests share one fetch. Invalidate drops the cached token so
// that the client's one retry after a 401 fetches a fresh one.
//
// A token endpoint's refusal is a *provider.Error with code auth_failed whose
// message names the endpoint's host, the HTTP status and the OAuth2 error
// and error_description; the rest of the endpoint's body is never shown.
// A connection failure keeps provider.TransportError's code
// (blocked_destination for an address the guard refuses). No error carries
// a client secret, a private key or a token.
package tokenauth

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/netguard"
	"github.com/switchyard/switchyard/provider"
)

var _ provider.TokenAuthFactory = Factory

// Factory builds the authenticator of a credential whose method is
// oauth2_client_credentials, azure_ad, gcp_service_account or aws_sigv4.
// Configuration problems (a missing field, a malformed URL or key) are
// reported here, as a *provider.Error with code auth_failed naming the
// method and the field.
func Factory(cred switchyard.Credential, opts provider.AuthOptions) (provider.Authenticator, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := creds{cred: cred}
	switch cred.Method {
	case switchyard.AuthOAuth2:
		return newClientCredentials(c, opts)
	case switchyard.AuthAzureAD:
		return newAzureAD(c, opts)
	case switchyard.AuthGCPServiceAccount:
		return newGCP(c, opts)
	case switchyard.AuthAWSSigV4:
		return newSigV4(c, opts)
	}
	return nil, fmt.Errorf("tokenauth: auth method %q is not a token-based method", string(cred.Method))
}

// creds reads a credential's fields and reports the first problem, naming
// the method and the field (never a value).
type creds struct {
	cred switchyard.Credential
}

func (c creds) errorf(format string, args ...any) *provider.Error {
	return provider.Errorf(provider.CodeAuth, nil, "%s credential: %s", c.cred.Method, fmt.Sprintf(format, args...))
}

// secret returns a required secret's plaintext.
func (c creds) secret(name string) (string, error) {
	s := c.cred.Secrets[name]
	if v := s.Reveal(); v != "" {
		return v, nil
	}
	if err := s.Err(); err != nil {
		e := c.errorf("secret %s cannot be decrypted", name)
		e.Err = err
		return "", e
	}
	return "", c.errorf("secret %s is not set", name)
}

// optionalSecret returns an optional secret's plaintext, or "".
func (c creds) optionalSecret(name string) (string, error) {
	s := c.cred.Secrets[name]
	if s.Reveal() == "" && s.Err() != nil {
		e := c.errorf("secret %s cannot be decrypted", name)
		e.Err = s.Err()
		return "", e
	}
	return s.Reveal(), nil
}

// config returns a required config value.
func (c creds) config(name string) (string, error) {
	if v := strings.TrimSpace(c.cred.Config[name]); v != "" {
		return v, nil
	}
	return "", c.errorf("config %s is not set", name)
}

func (c creds) optionalConfig(name, def string) string {
	if v := strings.TrimSpace(c.cred.Config[name]); v != "" {
		return v
	}
	return def
}

// splitScopes splits a scope list written with spaces or commas.
func splitScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
}

// checkTokenURL parses a token endpoint URL. schemes lists the schemes
// allowed. The URL may not carry user information: the client's
// credentials go in the request, and a URL's user part ends up in logs.
func checkTokenURL(c creds, field, raw string, schemes ...string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, c.errorf("%s %q is not an absolute URL", field, netguard.RedactURL(raw))
	}
	ok := false
	for _, s := range schemes {
		ok = ok || strings.EqualFold(u.Scheme, s)
	}
	if !ok {
		return nil, c.errorf("%s %q must be an %s URL", field, netguard.RedactURL(raw), strings.Join(schemes, " or "))
	}
	if u.User != nil {
		return nil, c.errorf("%s must not contain user information", field)
	}
	return u, nil
}
