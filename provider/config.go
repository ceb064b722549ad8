package provider

import (
	"fmt"
	"net/http"
	"time"

	"github.com/switchyard/switchyard"
)

// Config is what a protocol's constructor needs to build an Adapter.
type Config struct {
	// Provider is the stored provider (base URL, params, headers, settings).
	Provider *switchyard.Provider
	// Credential is the credential this adapter uses.
	Credential switchyard.Credential
	// HTTP sends upstream requests: the guarded client, with no overall
	// timeout (streams last); adapters bound calls with contexts.
	HTTP Doer
	// TokenHTTP fetches tokens for OAuth2, GCP and Azure AD (guarded too).
	TokenHTTP *http.Client
	// Tokens builds the token-based auth methods; nil leaves them out.
	Tokens TokenAuthFactory
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Param returns a provider parameter (region, api_version, …) or def.
func (c Config) Param(name, def string) string {
	if v := c.Provider.Params[name]; v != "" {
		return v
	}
	return def
}

// Client builds the HTTP client of an adapter: the provider's base URL and
// extra headers, and the credential's authenticator with the protocol's
// default key placement.
func (c Config) Client(def KeyPlacement, parse ErrorParser) (*Client, error) {
	if c.Provider == nil {
		return nil, fmt.Errorf("provider: no provider given")
	}
	if c.HTTP == nil {
		return nil, fmt.Errorf("provider: no HTTP client given")
	}
	now := c.Now
	if now == nil {
		now = time.Now
	}
	auth, err := NewAuthenticator(c.Credential, def, AuthOptions{HTTP: c.TokenHTTP, Now: now}, c.Tokens)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	for k, v := range c.Provider.Headers {
		if v.Reveal() != "" {
			h.Set(k, v.Reveal())
		}
	}
	return &Client{HTTP: c.HTTP, Auth: auth, BaseURL: c.Provider.BaseURL, Header: h, ParseError: parse}, nil
}
