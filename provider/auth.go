package provider

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/switchyard/switchyard"
)

// Authenticator adds a credential to outgoing requests.
type Authenticator interface {
	// Apply authenticates req. body is the request body (SigV4 signs its
	// hash); req.Body is already set from it.
	Apply(ctx context.Context, req *http.Request, body []byte) error
	// Invalidate drops a cached token after the upstream refused it, and
	// reports whether there was one (so one retry can fetch a fresh one).
	Invalidate() bool
}

// KeyPlacement says where an API key goes by default for a protocol; a
// credential's config (header, prefix, query_param) overrides it.
type KeyPlacement struct {
	Header     string
	Prefix     string
	QueryParam string
}

// Placements of the built-in protocols.
var (
	BearerPlacement    = KeyPlacement{Header: "Authorization", Prefix: "Bearer "}
	AzurePlacement     = KeyPlacement{Header: "api-key"}
	AnthropicPlacement = KeyPlacement{Header: "x-api-key"}
	GooglePlacement    = KeyPlacement{Header: "x-goog-api-key"}
)

// AuthOptions are what token-based methods need.
type AuthOptions struct {
	// HTTP fetches tokens (OAuth2, GCP, Azure AD); it must be the guarded
	// client, since token URLs come from admins too.
	HTTP *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// TokenAuthFactory builds the token-based methods (OAuth2 client
// credentials, AWS SigV4, GCP service account, Azure AD). It is set by the
// package that implements them, so that this package stays free of their
// libraries; nil means they are unavailable.
type TokenAuthFactory func(cred switchyard.Credential, opts AuthOptions) (Authenticator, error)

// NewAuthenticator returns the authenticator of a credential. def is the
// protocol's key placement; tokens builds the token-based methods.
func NewAuthenticator(cred switchyard.Credential, def KeyPlacement, opts AuthOptions, tokens TokenAuthFactory) (Authenticator, error) {
	switch cred.Method {
	case switchyard.AuthNone, "":
		return noAuth{}, nil
	case switchyard.AuthBearer:
		return &apiKey{place: BearerPlacement, key: cred.Secrets["token"]}, nil
	case switchyard.AuthAPIKey:
		place := def
		if h, ok := cred.Config["header"]; ok && h != "" {
			place = KeyPlacement{Header: h, Prefix: cred.Config["prefix"]}
		} else if p, ok := cred.Config["prefix"]; ok {
			place.Prefix = p
		}
		if q := cred.Config["query_param"]; q != "" {
			place = KeyPlacement{QueryParam: q}
		}
		if place.Header == "" && place.QueryParam == "" {
			place = BearerPlacement
		}
		return &apiKey{place: place, key: cred.Secrets["api_key"]}, nil
	}
	if tokens == nil {
		return nil, fmt.Errorf("auth method %s is not available in this build", cred.Method)
	}
	return tokens(cred, opts)
}

type noAuth struct{}

func (noAuth) Apply(context.Context, *http.Request, []byte) error { return nil }
func (noAuth) Invalidate() bool                                   { return false }

// apiKey puts a static key in a header or the query.
type apiKey struct {
	place KeyPlacement
	key   switchyard.Secret
}

func (a *apiKey) Apply(_ context.Context, req *http.Request, _ []byte) error {
	v := a.key.Reveal()
	if v == "" {
		if err := a.key.Err(); err != nil {
			return &Error{Code: CodeAuth, Message: "the credential's secret cannot be decrypted", Err: err}
		}
		return &Error{Code: CodeAuth, Message: "the credential has no key set"}
	}
	if a.place.QueryParam != "" {
		q := req.URL.Query()
		q.Set(a.place.QueryParam, v)
		req.URL.RawQuery = q.Encode()
		return nil
	}
	if strings.EqualFold(a.place.Header, "Authorization") && a.place.Prefix == "" {
		req.Header.Set("Authorization", "Bearer "+v)
		return nil
	}
	req.Header.Set(a.place.Header, a.place.Prefix+v)
	return nil
}

func (a *apiKey) Invalidate() bool { return false }
