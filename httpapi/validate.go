package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/switchyard/switchyard"
)

// Spec is the parsed OpenAPI document with a router over its operations.
type Spec struct {
	Doc    *openapi3.T
	router routers.Router
	// JSON is the document as JSON, served at /api/v1/openapi.json.
	JSON []byte
}

// LoadSpec parses and validates the OpenAPI document.
func LoadSpec(yamlDoc []byte) (*Spec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(yamlDoc)
	if err != nil {
		return nil, fmt.Errorf("parse the OpenAPI document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("the OpenAPI document is invalid: %w", err)
	}
	// Route on paths as served: the server URL is relative (/api/v1).
	routed := *doc
	routed.Servers = openapi3.Servers{{URL: "/api/v1"}}
	router, err := legacy.NewRouter(&routed)
	if err != nil {
		return nil, err
	}
	js, err := doc.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return &Spec{Doc: doc, router: router, JSON: js}, nil
}

// FindRoute returns the operation a request addresses.
func (s *Spec) FindRoute(r *http.Request) (*routers.Route, map[string]string, error) {
	return s.router.FindRoute(r)
}

// pathExists reports whether some method is defined on the request's path.
func (s *Spec) pathExists(r *http.Request) bool {
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, _, err := s.router.FindRoute(probe); err == nil {
			return true
		}
	}
	return false
}

// validateRequests checks every request against the OpenAPI document before
// a handler sees it: unknown paths and methods, parameter types and bounds,
// and request bodies, where an unknown field is refused by name. Every
// problem is reported at once.
func validateRequests(spec *Spec, log *slog.Logger) func(http.Handler) http.Handler {
	opts := &openapi3filter.Options{
		MultiError:         true,
		AuthenticationFunc: func(context.Context, *openapi3filter.AuthenticationInput) error { return nil },
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			route, params, err := spec.FindRoute(r)
			if err != nil {
				if errors.Is(err, routers.ErrMethodNotAllowed) || spec.pathExists(r) {
					writeProblem(w, r, log, &switchyard.Error{Code: codeMethodNotAllowed,
						Message: fmt.Sprintf("%s is not allowed on %s", r.Method, r.URL.Path)})
					return
				}
				writeProblem(w, r, log, errorf(switchyard.ENOTFOUND, "no API endpoint %s %s; see /api/v1/openapi.json", r.Method, r.URL.Path))
				return
			}
			in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts}
			if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
				if isMaxBytes(err) {
					writeProblem(w, r, log, tooLarge(maxBytesLimit(err)))
					return
				}
				writeProblem(w, r, log, requestProblems(err))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func maxBytesLimit(err error) int64 {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return mb.Limit
	}
	return 0
}

var quotedName = regexp.MustCompile(`^property "([^"]+)" is (?:unsupported|missing)$`)

// requestProblems turns kin-openapi's validation errors into field errors.
func requestProblems(err error) error {
	var pr switchyard.Problems
	var walk func(prefix string, err error)
	walk = func(prefix string, err error) {
		if multi, ok := err.(openapi3.MultiError); ok {
			for _, e := range multi {
				walk(prefix, e)
			}
			return
		}
		if re, ok := err.(*openapi3filter.RequestError); ok {
			switch {
			case re.Parameter != nil:
				prefix = re.Parameter.Name
			case re.RequestBody != nil:
				prefix = ""
			}
			if re.Err == nil {
				if re.RequestBody != nil && strings.Contains(re.Reason, "value is required") {
					pr.Add("body", "required", "a JSON body is required")
					return
				}
				pr.Add(fieldOr(prefix, "body"), "invalid", "%s", re.Reason)
				return
			}
			var se *openapi3.SchemaError
			var multi openapi3.MultiError
			if !errors.As(re.Err, &se) && !errors.As(re.Err, &multi) {
				if re.RequestBody != nil {
					pr.Add("body", "invalid_json", "the body is not valid JSON for this operation; check its syntax and field types")
					return
				}
				pr.Add(fieldOr(prefix, "request"), "invalid", "%s", re.Reason)
				return
			}
			walk(prefix, re.Err)
			return
		}
		if se, ok := err.(*openapi3.SchemaError); ok {
			field := joinPointer(prefix, se.JSONPointer())
			code := schemaCode(se.SchemaField)
			if m := quotedName.FindStringSubmatch(se.Reason); m != nil {
				switch {
				case strings.HasSuffix(se.Reason, "is unsupported"):
					pr.Add(joinPointer(field, []string{m[1]}), "unknown_field", "is not a field of this request; remove it (field names are snake_case)")
					return
				case strings.HasSuffix(se.Reason, "is missing"):
					pr.Add(joinPointer(field, []string{m[1]}), "required", "is required")
					return
				}
			}
			pr.Add(fieldOr(field, "body"), code, "%s", se.Reason)
			return
		}
		pr.Add(fieldOr(prefix, "request"), "invalid", "%s", err.Error())
	}
	walk("", err)
	return pr.Err("request")
}

func fieldOr(f, fallback string) string {
	if f == "" {
		return fallback
	}
	return f
}

// joinPointer renders a JSON pointer as a field path: a.b[0].c.
func joinPointer(prefix string, ptr []string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, p := range ptr {
		if _, err := strconv.Atoi(p); err == nil {
			b.WriteString("[" + p + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

func schemaCode(keyword string) string {
	switch keyword {
	case "type":
		return "invalid_type"
	case "enum":
		return "invalid_enum"
	case "maxLength", "minLength", "maximum", "minimum", "maxItems", "minItems":
		return "out_of_range"
	case "format":
		return "invalid_format"
	case "pattern":
		return "invalid_pattern"
	case "":
		return "invalid"
	}
	return keyword
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
