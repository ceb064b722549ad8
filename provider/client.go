package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/switchyard/switchyard/netguard"
)

// maxErrorBody bounds how much of an error answer is read to find its
// message.
const maxErrorBody = 64 << 10

// ErrorParser finds the provider's error type and message in an error
// answer's body.
type ErrorParser func(status int, body []byte) (typ, message string)

// Client sends an adapter's HTTP requests: it joins the base URL, sets the
// provider's extra headers, authenticates, retries once with a fresh token
// after a 401, and turns transport failures and error answers into *Error.
type Client struct {
	HTTP    Doer
	Auth    Authenticator
	BaseURL string
	// Header holds the provider's extra headers, set on every request.
	Header     http.Header
	ParseError ErrorParser
}

// Request is one call.
type Request struct {
	Method string
	// Path is appended to the base URL; it may hold a query.
	Path   string
	Query  url.Values
	Body   []byte
	Header http.Header
}

// Do sends r and returns the answer of a 2xx status; the caller closes its
// body. Any other status is returned as *Error.
func (c *Client) Do(ctx context.Context, r Request) (*http.Response, error) {
	res, err := c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	if res.StatusCode == http.StatusUnauthorized && c.Auth != nil && c.Auth.Invalidate() {
		res.Body.Close()
		if res, err = c.send(ctx, r); err != nil {
			return nil, err
		}
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		defer res.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
		var typ, msg string
		if c.ParseError != nil {
			typ, msg = c.ParseError(res.StatusCode, body)
		}
		if msg == "" {
			msg = http.StatusText(res.StatusCode)
		}
		return nil, StatusError(res, typ, msg)
	}
	return res, nil
}

func (c *Client) send(ctx context.Context, r Request) (*http.Response, error) {
	u := strings.TrimSuffix(c.BaseURL, "/") + r.Path
	if len(r.Query) > 0 {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + r.Query.Encode()
	}
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u, body)
	if err != nil {
		return nil, Errorf(CodeBadRequest, nil, "cannot build the request: %v", netguard.Redact(err))
	}
	for k, vs := range c.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	if r.Body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Auth != nil {
		if err := c.Auth.Apply(ctx, req, r.Body); err != nil {
			if e, ok := AsError(err); ok {
				return nil, e
			}
			return nil, Errorf(CodeAuth, netguard.Redact(err), "cannot authenticate: %v", netguard.Redact(err))
		}
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return nil, TransportError(ctx, err)
	}
	return res, nil
}

// JSON sends in as a JSON body (nil for none) and decodes a 2xx answer
// into out (nil to discard it).
func (c *Client) JSON(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return Errorf(CodeBadRequest, err, "cannot encode the request: %v", err)
		}
	}
	res, err := c.Do(ctx, Request{Method: method, Path: path, Body: body})
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		return nil
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		if ctx.Err() != nil {
			return TransportError(ctx, err)
		}
		return Errorf(CodeBadResponse, err, "the provider's answer is not the JSON expected: %v", err)
	}
	return nil
}

// TransportError classifies a failure to get an answer, with URLs and
// secrets redacted.
func TransportError(ctx context.Context, err error) *Error {
	err = netguard.Redact(err)
	var refused *netguard.Refused
	var dns *net.DNSError
	var nerr net.Error
	switch {
	case errors.As(err, &refused):
		return &Error{Code: CodeBlocked, Message: refused.Error(), Err: err}
	case errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
		return &Error{Code: CodeNetwork, Message: "the request was cancelled", Err: err}
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &nerr) && nerr.Timeout()):
		return &Error{Code: CodeTimeout, Message: "the provider did not answer in time", Err: err}
	case errors.As(err, &dns):
		return &Error{Code: CodeNetwork, Message: fmt.Sprintf("cannot resolve %s", dns.Name), Err: err}
	}
	return &Error{Code: CodeNetwork, Message: err.Error(), Err: err}
}

// ReadError classifies a failure to read an answer's body or the next part
// of a stream: the context's end, an error already classified, or the
// connection closing before the protocol's end (what names it). The
// result never wraps io.EOF, so that no caller takes it for a clean end.
func ReadError(ctx context.Context, err error, what string) *Error {
	if ctx.Err() != nil {
		return TransportError(ctx, ctx.Err())
	}
	if e, ok := AsError(err); ok {
		return e
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return Errorf(CodeNetwork, io.ErrUnexpectedEOF, "%s ended early", what)
	}
	return TransportError(ctx, err)
}
