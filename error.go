package switchyard

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Error codes are a closed set. Transports map them to their own status
// codes in exactly one place (the HTTP API maps them in httpapi).
const (
	EINVALID      = "invalid"            // the input broke a rule; Fields says which
	ENOTFOUND     = "not_found"          // no such resource (or not visible to the caller)
	ECONFLICT     = "conflict"           // a unique value is taken, or a dependent blocks the change
	ESTALE        = "stale_version"      // optimistic concurrency: the resource changed since it was read
	EUNAUTHORIZED = "unauthorized"       // no or bad credentials
	EFORBIDDEN    = "forbidden"          // authenticated, but not allowed
	ESECRET       = "secret_unavailable" // a stored secret cannot be decrypted
	EUNAVAILABLE  = "unavailable"        // a dependency (database, upstream) cannot be reached
	EINTERNAL     = "internal"           // a bug or an unexpected failure; details are logged, not shown
	ERATELIMIT    = "rate_limited"       // too many attempts; RetryAfter says when to try again
)

// FieldError names one bad input field: a path such as
// "credentials[0].secrets.api_key", a stable code such as "required", and a
// message that says how to fix it. It never contains a secret value.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error is the domain error. Message is safe to show to the caller; Err is
// the underlying cause, for logs only.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
	Err     error
	// RetryAfter, for ERATELIMIT, says how long to wait.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Code)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	// A single problem is already spelled out in the message.
	if len(e.Fields) > 1 {
		for _, f := range e.Fields {
			fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
		}
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-safe message of err: the Message of its
// *Error, or a generic text for internal errors, whose details must not leak.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Message
	}
	return "internal error"
}

// ErrorFields returns the field errors of err's *Error, if any.
func ErrorFields(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// Problems collects field errors so that validation reports every bad field
// at once instead of stopping at the first.
type Problems struct {
	fields []FieldError
}

// Add records a problem with a field.
func (p *Problems) Add(field, code, format string, args ...any) {
	p.fields = append(p.fields, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// Merge adds the field errors of err under prefix (for nested values).
// A nil err adds nothing; an err without field errors is added as one problem
// at prefix.
func (p *Problems) Merge(prefix string, err error) {
	if err == nil {
		return
	}
	fields := ErrorFields(err)
	if len(fields) == 0 {
		p.Add(prefix, ErrorCode(err), "%s", ErrorMessage(err))
		return
	}
	for _, f := range fields {
		if prefix != "" {
			if strings.HasPrefix(f.Field, "[") {
				f.Field = prefix + f.Field
			} else {
				f.Field = prefix + "." + f.Field
			}
		}
		p.fields = append(p.fields, f)
	}
}

// Fields returns the problems recorded so far.
func (p *Problems) Fields() []FieldError { return p.fields }

// Err returns nil when nothing was recorded, or an EINVALID *Error listing
// every problem.
func (p *Problems) Err(what string) error {
	if len(p.fields) == 0 {
		return nil
	}
	msg := fmt.Sprintf("%s is invalid: %d problem(s), see fields", what, len(p.fields))
	if len(p.fields) == 1 {
		msg = fmt.Sprintf("%s is invalid: %s: %s", what, p.fields[0].Field, p.fields[0].Message)
	}
	return &Error{Code: EINVALID, Message: msg, Fields: p.fields}
}
