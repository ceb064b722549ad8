package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/httpapi/apigen"
)

// Transport-level problem codes, beside the domain's.
const (
	codeTooLarge         = "too_large"
	codeUnsupportedMedia = "unsupported_media_type"
	codeMethodNotAllowed = "method_not_allowed"
)

// statusOf maps an error code to its HTTP status: the one place where
// domain codes meet HTTP.
func statusOf(code string) int {
	switch code {
	case switchyard.EINVALID:
		return http.StatusBadRequest
	case switchyard.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case switchyard.EFORBIDDEN:
		return http.StatusForbidden
	case switchyard.ENOTFOUND:
		return http.StatusNotFound
	case switchyard.ECONFLICT:
		return http.StatusConflict
	case switchyard.ESTALE:
		return http.StatusPreconditionFailed
	case switchyard.ERATELIMIT:
		return http.StatusTooManyRequests
	case switchyard.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case codeTooLarge:
		return http.StatusRequestEntityTooLarge
	case codeUnsupportedMedia:
		return http.StatusUnsupportedMediaType
	case codeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	default:
		return http.StatusInternalServerError
	}
}

var titles = map[string]string{
	switchyard.EINVALID:      "Invalid input",
	switchyard.EUNAUTHORIZED: "Authentication required",
	switchyard.EFORBIDDEN:    "Forbidden",
	switchyard.ENOTFOUND:     "Not found",
	switchyard.ECONFLICT:     "Conflict",
	switchyard.ESTALE:        "Changed since read",
	switchyard.ERATELIMIT:    "Too many requests",
	switchyard.EUNAVAILABLE:  "Unavailable",
	switchyard.ESECRET:       "Secret unavailable",
	switchyard.EINTERNAL:     "Internal error",
	codeTooLarge:             "Request too large",
	codeUnsupportedMedia:     "Unsupported media type",
	codeMethodNotAllowed:     "Method not allowed",
}

// problemOf builds the RFC 9457 document for err. Internal errors show a
// generic text; their detail goes to the log only.
func problemOf(err error) apigen.Problem {
	code := switchyard.ErrorCode(err)
	p := apigen.Problem{
		Type:   "urn:switchyard:problem:" + code,
		Title:  titles[code],
		Status: statusOf(code),
		Code:   apigen.ProblemCode(code),
		Detail: switchyard.ErrorMessage(err),
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	if code == switchyard.EINTERNAL {
		p.Detail = "an internal error occurred; the server log has the details"
	}
	if fields := switchyard.ErrorFields(err); len(fields) > 0 {
		errs := make([]apigen.FieldError, len(fields))
		for i, f := range fields {
			errs[i] = apigen.FieldError{Field: f.Field, Code: f.Code, Message: f.Message}
		}
		p.Errors = &errs
	}
	return p
}

// writeProblem writes err as problem+json and logs internal errors.
func writeProblem(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	p := problemOf(err)
	if p.Status >= 500 {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	if rid := requestIDFrom(r.Context()); rid != "" {
		p.RequestId = &rid
	}
	var e *switchyard.Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.RetryAfter.Seconds()))))
	}
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="switchyard"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func errorf(code, format string, args ...any) error { return switchyard.Errorf(code, format, args...) }

// errNotImplemented answers operations whose handlers have not landed.
var errNotImplemented = errorf(switchyard.EUNAVAILABLE, "this operation is not implemented yet")
