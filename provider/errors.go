package provider

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Stable codes of upstream failures, shared by every protocol. The gateway
// and the connectivity test map them to their own answers and hints.
const (
	CodeAuth        = "auth_failed"    // 401: the key or token was rejected
	CodeForbidden   = "forbidden"      // 403: authenticated, but not allowed (region, model access, IAM policy)
	CodeNotFound    = "not_found"      // 404: wrong base URL, path, api-version, deployment or model
	CodeRateLimited = "rate_limited"   // 429: slow down; RetryAfter says for how long
	CodeBadRequest  = "bad_request"    // 400/422: the provider refused the request's content
	CodeTooLarge    = "too_large"      // 413 or a context length error
	CodeUpstream    = "upstream_error" // 5xx
	CodeUnavailable = "unavailable"    // 503, overloaded (529)
	CodeTimeout     = "timeout"        // no answer in time
	CodeNetwork     = "network_error"  // DNS, TCP, TLS or a dropped connection
	CodeBlocked     = "blocked_destination"
	CodeBadResponse = "bad_response" // the answer did not parse
	CodeUnsupported = "unsupported"  // the protocol has no such operation
)

// ErrUnsupported is returned for an operation a protocol does not offer.
var ErrUnsupported = &Error{Code: CodeUnsupported, Message: "the provider's protocol has no such operation"}

// Error is a failure of an upstream call.
type Error struct {
	// Code is one of the Code constants.
	Code string
	// Status is the upstream HTTP status (0 when none was received).
	Status int
	// Type is the provider's own error type or code, when it gave one.
	Type string
	// Message is the provider's error message (truncated, never the raw
	// body) or a description of the failure.
	Message string
	// RetryAfter is how long the provider asked to wait.
	RetryAfter time.Duration
	// Err is the underlying cause (redacted).
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("upstream ")
	b.WriteString(e.Code)
	if e.Status != 0 {
		b.WriteString(" (HTTP ")
		b.WriteString(strconv.Itoa(e.Status))
		b.WriteString(")")
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether the same request may succeed later or elsewhere.
func (e *Error) Retryable() bool {
	switch e.Code {
	case CodeRateLimited, CodeUpstream, CodeUnavailable, CodeTimeout, CodeNetwork:
		return true
	}
	return false
}

// AsError returns err's *Error, if it has one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// CodeForStatus maps an HTTP status to a stable code.
func CodeForStatus(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return CodeAuth
	case status == http.StatusForbidden:
		return CodeForbidden
	case status == http.StatusNotFound:
		return CodeNotFound
	case status == http.StatusTooManyRequests:
		return CodeRateLimited
	case status == http.StatusRequestEntityTooLarge:
		return CodeTooLarge
	case status == http.StatusServiceUnavailable || status == 529:
		return CodeUnavailable
	case status == http.StatusGatewayTimeout || status == http.StatusRequestTimeout:
		return CodeTimeout
	case status >= 500:
		return CodeUpstream
	case status >= 400:
		return CodeBadRequest
	}
	return CodeBadResponse
}

// StatusError builds the error for a non-2xx answer: the status, the
// provider's message and type as a protocol parsed them from the body, and
// Retry-After.
func StatusError(res *http.Response, typ, message string) *Error {
	return &Error{Code: CodeForStatus(res.StatusCode), Status: res.StatusCode, Type: typ,
		Message: Truncate(message, 512), RetryAfter: RetryAfter(res.Header)}
}

// RetryAfter reads Retry-After (seconds or an HTTP date) and the
// retry-after-ms some providers send.
func RetryAfter(h http.Header) time.Duration {
	if ms := h.Get("Retry-After-Ms"); ms != "" {
		if n, err := strconv.ParseFloat(ms, 64); err == nil && n > 0 {
			return time.Duration(n * float64(time.Millisecond))
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// Truncate shortens s to at most n bytes on a rune boundary.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// Errorf describes a failure that is not an HTTP status.
func Errorf(code string, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}
