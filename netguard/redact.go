package netguard

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
)

// Redacted replaces what Redact and RedactURL remove.
const Redacted = "REDACTED"

var (
	// urlRE finds URLs in error texts; a quote, space or angle bracket ends one.
	urlRE = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.\-]*://[^\s"'<>` + "`" + `]+`)
	// headerRE finds "name: value" or "name=value" for headers and
	// parameters that carry secrets; the value runs to the end of the line
	// or to a quote, comma or ampersand.
	headerRE = regexp.MustCompile(`(?i)\b((?:proxy-)?authorization|x-api-key|api-key|x-goog-api-key|apikey|api_key|x-amz-security-token|x-amz-content-sha256|cookie|set-cookie|client_secret|refresh_token|access_token|id_token|private_key|password|secret|token|key|sig|signature)(["']?\s*[:=]\s*["']?)[^"'\r\n,&}]+`)
	// googleKeyRE finds Google API keys anywhere, whatever surrounds them.
	googleKeyRE = regexp.MustCompile(`AIza[0-9A-Za-z_\-]{20,}`)
	// bearerRE finds a bearer token wherever it is written, not only after
	// an Authorization header name (an upstream may echo it in prose).
	bearerRE = regexp.MustCompile(`(?i)\b(bearer\s+)[A-Za-z0-9._~+/\-]+=*`)
	// skKeyRE finds keys in the sk-… shape (OpenAI, Anthropic, DeepSeek and
	// many OpenAI-compatible services) anywhere.
	skKeyRE = regexp.MustCompile(`\bsk-[A-Za-z0-9_\-]{16,}`)
)

// RedactURL returns u without user information, fragment or query; a
// non-empty query is replaced by "?REDACTED". Text that does not parse as a URL keeps only
// what comes before any '?' or '#', with anything up to an '@' removed.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Opaque != "" {
		s := u
		if i := strings.IndexAny(s, "?#"); i >= 0 {
			s = s[:i] + "?" + Redacted
		}
		if i := strings.LastIndex(s, "@"); i >= 0 {
			scheme := ""
			if j := strings.Index(s, "://"); j >= 0 && j < i {
				scheme = s[:j+3]
			}
			s = scheme + s[i+1:]
		}
		return s
	}
	p.User = nil
	p.Fragment, p.RawFragment = "", ""
	if p.RawQuery != "" {
		p.RawQuery = Redacted
	}
	p.ForceQuery = false
	return p.String()
}

// redactText removes URLs' secrets, secret header and parameter values and
// Google API keys from s.
func redactText(s string) string {
	s = urlRE.ReplaceAllStringFunc(s, RedactURL)
	s = headerRE.ReplaceAllString(s, "${1}${2}"+Redacted)
	s = bearerRE.ReplaceAllString(s, "${1}"+Redacted)
	s = skKeyRE.ReplaceAllString(s, Redacted)
	return googleKeyRE.ReplaceAllString(s, Redacted)
}

// Redact returns err with query strings (Gemini's ?key=), user information
// and the values of secret headers removed from its text, for logs and
// callers. An error whose text needs no change is returned as it is. A
// *url.Error comes back as a *url.Error whose URL has its query replaced by
// "?REDACTED"; other errors are wrapped so that Unwrap yields the redacted
// form of what they wrap, and errors.Is and errors.As still work on the
// chain.
func Redact(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := redactText(msg)
	if clean == msg {
		return err
	}
	if ue, ok := err.(*url.Error); ok {
		return &url.Error{Op: ue.Op, URL: RedactURL(ue.URL), Err: Redact(ue.Err)}
	}
	r := &redacted{msg: clean}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		if inner := u.Unwrap(); inner != nil {
			r.wrapped = []error{Redact(inner)}
		}
	case interface{ Unwrap() []error }:
		for _, inner := range u.Unwrap() {
			r.wrapped = append(r.wrapped, Redact(inner))
		}
	}
	return r
}

type redacted struct {
	msg     string
	wrapped []error
}

func (e *redacted) Error() string   { return e.msg }
func (e *redacted) Unwrap() []error { return e.wrapped }

// Timeout reports whether a wrapped error is a timeout, as net.Error does.
func (e *redacted) Timeout() bool {
	for _, w := range e.wrapped {
		var t interface{ Timeout() bool }
		if errors.As(w, &t) && t.Timeout() {
			return true
		}
	}
	return false
}
