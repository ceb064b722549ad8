package tokenauth

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/switchyard/switchyard/provider"
)

const (
	azureAuthorityHost = "login.microsoftonline.com"
	azureDefaultScope  = "https://cognitiveservices.azure.com/.default"
)

// azureTenantRE admits tenant GUIDs, domain names and the aliases common,
// organizations and consumers: one path segment, nothing to escape.
var azureTenantRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]*$`)

// newClientCredentials builds oauth2_client_credentials: config client_id,
// token_url, scopes and audience; secret client_secret.
func newClientCredentials(c creds, opts provider.AuthOptions) (provider.Authenticator, error) {
	id, err := c.config("client_id")
	if err != nil {
		return nil, err
	}
	raw, err := c.config("token_url")
	if err != nil {
		return nil, err
	}
	// http stays possible for identity servers inside a network; the
	// guarded client admits such addresses only when allowlisted.
	u, err := checkTokenURL(c, "token_url", raw, "https", "http")
	if err != nil {
		return nil, err
	}
	secret, err := c.secret("client_secret")
	if err != nil {
		return nil, err
	}
	cfg := &clientcredentials.Config{
		ClientID:     id,
		ClientSecret: secret,
		TokenURL:     u.String(),
		Scopes:       splitScopes(c.cred.Config["scopes"]),
	}
	if aud := c.optionalConfig("audience", ""); aud != "" {
		cfg.EndpointParams = url.Values{"audience": {aud}}
	}
	return clientCredentials(c, cfg, u.Host, opts)
}

// newAzureAD builds azure_ad: the client credentials flow against
// https://{authority_host}/{tenant_id}/oauth2/v2.0/token.
func newAzureAD(c creds, opts provider.AuthOptions) (provider.Authenticator, error) {
	tenant, err := c.config("tenant_id")
	if err != nil {
		return nil, err
	}
	if !azureTenantRE.MatchString(tenant) {
		return nil, c.errorf("config tenant_id must be a tenant ID or domain name")
	}
	id, err := c.config("client_id")
	if err != nil {
		return nil, err
	}
	host, err := azureHost(c, c.optionalConfig("authority_host", azureAuthorityHost))
	if err != nil {
		return nil, err
	}
	secret, err := c.secret("client_secret")
	if err != nil {
		return nil, err
	}
	cfg := &clientcredentials.Config{
		ClientID:     id,
		ClientSecret: secret,
		TokenURL:     (&url.URL{Scheme: "https", Host: host, Path: "/" + tenant + "/oauth2/v2.0/token"}).String(),
		Scopes:       splitScopes(c.optionalConfig("scope", azureDefaultScope)),
		// Entra ID takes the client secret in the form as well as in Basic
		// auth; the form saves auto-detection a second request on failure.
		AuthStyle: oauth2.AuthStyleInParams,
	}
	return clientCredentials(c, cfg, host, opts)
}

// azureHost reads authority_host, written as a host ("login.microsoftonline.us")
// or as a URL ("https://login.microsoftonline.us/", as AZURE_AUTHORITY_HOST
// is). Only https is accepted.
func azureHost(c creds, v string) (string, error) {
	if !strings.Contains(v, "://") {
		v = "https://" + v
	}
	u, err := checkTokenURL(c, "authority_host", v, "https")
	if err != nil {
		return "", err
	}
	if strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		return "", c.errorf("config authority_host must be a host name, such as %s", azureAuthorityHost)
	}
	return u.Host, nil
}

func clientCredentials(c creds, cfg *clientcredentials.Config, host string, opts provider.AuthOptions) (provider.Authenticator, error) {
	if opts.HTTP == nil {
		return nil, fmt.Errorf("tokenauth: %s needs an HTTP client for token fetches", c.cred.Method)
	}
	return newBearer(host, opts.HTTP, opts.Now, func(ctx context.Context) (*oauth2.Token, error) {
		// Config.Token fetches every time; bearer caches.
		return cfg.Token(ctx)
	}), nil
}
