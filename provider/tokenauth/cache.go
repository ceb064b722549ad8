package tokenauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/switchyard/switchyard/netguard"
	"github.com/switchyard/switchyard/provider"
)

const (
	// refreshEarly is how long before its expiry a token is replaced.
	refreshEarly = 60 * time.Second
	// fetchTimeout bounds one token fetch, whatever the client's settings.
	fetchTimeout = 30 * time.Second
	// maxDescription bounds the error_description shown from an endpoint.
	maxDescription = 256
)

// fetchFunc asks the token endpoint for a new token. ctx carries the HTTP
// client under oauth2.HTTPClient.
type fetchFunc func(ctx context.Context) (*oauth2.Token, error)

// bearer is the authenticator of the token methods: it sets
// "Authorization: Bearer <token>" with a cached token.
//
// x/oauth2's ReuseTokenSource is not used for the cache: its clock cannot be
// injected and it cannot be told to drop a token the upstream refused.
// The libraries only fetch; bearer decides when.
type bearer struct {
	fetch fetchFunc
	host  string // the token endpoint's host, for messages
	now   func() time.Time
	http  *http.Client

	// sem lets one fetch run at a time; waiters then reuse its token.
	sem chan struct{}
	// fetchCtx and transportErr belong to the fetch holding sem.
	fetchCtx     context.Context
	transportErr error

	mu      sync.Mutex
	token   string
	refresh time.Time // when to fetch anew; zero for never
}

func newBearer(host string, hc *http.Client, now func() time.Time, fetch fetchFunc) *bearer {
	b := &bearer{fetch: fetch, host: host, now: now, sem: make(chan struct{}, 1)}
	// The libraries get a copy of the guarded client whose transport runs
	// each request under the fetch's context (x/oauth2/jwt posts without
	// one) and keeps the transport error (x/oauth2/jwt formats it with %v,
	// which loses *netguard.Refused).
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	b.http = &http.Client{
		Transport:     &fetchTransport{base: base, b: b},
		CheckRedirect: hc.CheckRedirect,
		Jar:           hc.Jar,
		Timeout:       hc.Timeout,
	}
	return b
}

func (b *bearer) Apply(ctx context.Context, req *http.Request, _ []byte) error {
	tok, err := b.get(ctx)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

func (b *bearer) Invalidate() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	had := b.token != ""
	b.token, b.refresh = "", time.Time{}
	return had
}

// cached returns the token if it is not due for refresh.
func (b *bearer) cached() (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.token == "" || (!b.refresh.IsZero() && !b.now().Before(b.refresh)) {
		return "", false
	}
	return b.token, true
}

func (b *bearer) get(ctx context.Context) (string, error) {
	if tok, ok := b.cached(); ok {
		return tok, nil
	}
	select {
	case b.sem <- struct{}{}:
	case <-ctx.Done():
		return "", provider.TransportError(ctx, ctx.Err())
	}
	defer func() { <-b.sem }()
	// Another request may have fetched while this one waited.
	if tok, ok := b.cached(); ok {
		return tok, nil
	}

	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	b.fetchCtx, b.transportErr = ctx, nil
	defer func() { b.fetchCtx, b.transportErr = nil, nil }()

	start, clockStart := time.Now(), b.now()
	tok, err := b.fetch(context.WithValue(ctx, oauth2.HTTPClient, b.http))
	if err != nil {
		return "", b.fetchError(ctx, err)
	}
	if tok.AccessToken == "" {
		return "", &provider.Error{Code: provider.CodeAuth,
			Message: fmt.Sprintf("the token endpoint %s answered without an access token", b.host)}
	}

	// The libraries compute Expiry on the wall clock; carry the lifetime
	// over to the injected one.
	var refresh time.Time
	if !tok.Expiry.IsZero() {
		life := tok.Expiry.Sub(start)
		early := refreshEarly
		if life < 2*early {
			early = life / 2
		}
		refresh = clockStart.Add(life - early)
	}
	b.mu.Lock()
	b.token, b.refresh = tok.AccessToken, refresh
	b.mu.Unlock()
	return tok.AccessToken, nil
}

// fetchError turns a failed fetch into a *provider.Error naming the token
// endpoint's host. Only the OAuth2 error and error_description of an
// endpoint's answer are shown, never the rest of its body.
func (b *bearer) fetchError(ctx context.Context, err error) *provider.Error {
	if b.transportErr != nil {
		e := provider.TransportError(ctx, b.transportErr)
		e.Message = fmt.Sprintf("cannot reach the token endpoint %s: %s", b.host, e.Message)
		return e
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		code, desc := re.ErrorCode, re.ErrorDescription
		if code == "" {
			// x/oauth2/jwt does not parse the error body.
			var body struct {
				Error            string `json:"error"`
				ErrorDescription string `json:"error_description"`
			}
			if json.Unmarshal(re.Body, &body) == nil {
				code, desc = body.Error, body.ErrorDescription
			}
		}
		msg := fmt.Sprintf("the token endpoint %s refused the request", b.host)
		if re.Response != nil {
			msg = fmt.Sprintf("the token endpoint %s answered HTTP %d", b.host, re.Response.StatusCode)
		}
		if code != "" {
			msg += ": " + provider.Truncate(code, 64)
			if desc != "" {
				msg += " (" + provider.Truncate(desc, maxDescription) + ")"
			}
		}
		return &provider.Error{Code: provider.CodeAuth, Message: redact(msg)}
	}
	if ctx.Err() != nil {
		return provider.TransportError(ctx, ctx.Err())
	}
	// Parse failures and the like; x/oauth2's texts hold no secrets, but
	// pass them through the redactor all the same.
	return &provider.Error{Code: provider.CodeAuth,
		Message: fmt.Sprintf("cannot get a token from %s: %s", b.host, redact(err.Error()))}
}

// redact removes secret-looking values from a text for an error message.
func redact(s string) string { return netguard.Redact(errors.New(s)).Error() }

// fetchTransport runs token requests under the current fetch's context and
// keeps their transport error.
type fetchTransport struct {
	base http.RoundTripper
	b    *bearer
}

func (t *fetchTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if ctx := t.b.fetchCtx; ctx != nil {
		req = req.WithContext(ctx)
	}
	res, err := t.base.RoundTrip(req)
	if err != nil {
		t.b.transportErr = err
	}
	return res, err
}
