package switchyard_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard/switchyard"
)

func TestErrorString(t *testing.T) {
	tests := []struct {
		name string
		err  *switchyard.Error
		want string
	}{
		{"code only", &switchyard.Error{Code: switchyard.ENOTFOUND}, "not_found"},
		{"code and message", switchyard.Errorf(switchyard.ECONFLICT, "slug %q is taken", "openai"), `conflict: slug "openai" is taken`},
		{"with fields", &switchyard.Error{Code: switchyard.EINVALID, Message: "provider is invalid",
			Fields: []switchyard.FieldError{{Field: "name", Code: "required", Message: "is required"}, {Field: "slug", Code: "invalid_slug", Message: "bad"}}},
			"invalid: provider is invalid; name: is required; slug: bad"},
		{"with cause", &switchyard.Error{Code: switchyard.EUNAVAILABLE, Message: "database down", Err: errors.New("dial tcp: refused")},
			"unavailable: database down: dial tcp: refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrorUnwrap(t *testing.T) {
	cause := errors.New("disk full")
	err := &switchyard.Error{Code: switchyard.EINTERNAL, Err: cause}
	if !errors.Is(err, cause) {
		t.Fatal("errors.Is does not find the cause through *Error")
	}
}

func TestErrorCodeMessageFields(t *testing.T) {
	fields := []switchyard.FieldError{{Field: "name", Code: "required", Message: "is required"}}
	invalid := &switchyard.Error{Code: switchyard.EINVALID, Message: "provider is invalid", Fields: fields}
	tests := []struct {
		name       string
		err        error
		wantCode   string
		wantMsg    string
		wantFields []switchyard.FieldError
	}{
		{"nil", nil, "", "", nil},
		{"plain error is internal", errors.New("pq: password authentication failed for user admin"), switchyard.EINTERNAL, "internal error", nil},
		{"domain error", switchyard.Errorf(switchyard.ENOTFOUND, "no provider %q", "p1"), switchyard.ENOTFOUND, `no provider "p1"`, nil},
		{"wrapped with %w", fmt.Errorf("create provider: %w", invalid), switchyard.EINVALID, "provider is invalid", fields},
		{"wrapped twice", fmt.Errorf("api: %w", fmt.Errorf("store: %w", invalid)), switchyard.EINVALID, "provider is invalid", fields},
		{"wrapped with %v loses the code", fmt.Errorf("create provider: %v", invalid), switchyard.EINTERNAL, "internal error", nil},
		{"internal domain error hides its detail", &switchyard.Error{Code: switchyard.EINTERNAL, Message: "query SELECT secret FROM keys failed"},
			switchyard.EINTERNAL, "internal error", nil},
		{"wrapped internal hides its detail", fmt.Errorf("x: %w", &switchyard.Error{Code: switchyard.EINTERNAL, Message: "token=abc", Err: errors.New("boom")}),
			switchyard.EINTERNAL, "internal error", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := switchyard.ErrorCode(tt.err); got != tt.wantCode {
				t.Errorf("ErrorCode = %q, want %q", got, tt.wantCode)
			}
			if got := switchyard.ErrorMessage(tt.err); got != tt.wantMsg {
				t.Errorf("ErrorMessage = %q, want %q", got, tt.wantMsg)
			}
			if got := switchyard.ErrorFields(tt.err); !slices.Equal(got, tt.wantFields) {
				t.Errorf("ErrorFields = %v, want %v", got, tt.wantFields)
			}
		})
	}
}

func TestProblemsMerge(t *testing.T) {
	nested := func(fields ...string) error {
		var p switchyard.Problems
		for _, f := range fields {
			p.Add(f, "required", "is required")
		}
		return p.Err("nested")
	}
	tests := []struct {
		name   string
		prefix string
		err    error
		want   []switchyard.FieldError
	}{
		{"nil adds nothing", "settings", nil, nil},
		{"dotted field gets a dot", "credentials[1]", nested("secrets.api_key"),
			[]switchyard.FieldError{{Field: "credentials[1].secrets.api_key", Code: "required", Message: "is required"}}},
		{"index field is appended directly", "models", nested("[2].upstream_id"),
			[]switchyard.FieldError{{Field: "models[2].upstream_id", Code: "required", Message: "is required"}}},
		{"empty prefix keeps the field", "", nested("name", "[0]"),
			[]switchyard.FieldError{{Field: "name", Code: "required", Message: "is required"}, {Field: "[0]", Code: "required", Message: "is required"}}},
		{"every field is merged", "settings", nested("timeout_ms", "max_retries"),
			[]switchyard.FieldError{{Field: "settings.timeout_ms", Code: "required", Message: "is required"}, {Field: "settings.max_retries", Code: "required", Message: "is required"}}},
		{"error without fields becomes one problem at the prefix", "credential", switchyard.Errorf(switchyard.ECONFLICT, "name is taken"),
			[]switchyard.FieldError{{Field: "credential", Code: switchyard.ECONFLICT, Message: "name is taken"}}},
		{"plain error is internal and hides its text", "credential", errors.New("secret key sk-live-123 rejected"),
			[]switchyard.FieldError{{Field: "credential", Code: switchyard.EINTERNAL, Message: "internal error"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p switchyard.Problems
			p.Merge(tt.prefix, tt.err)
			if got := p.Fields(); !slices.Equal(got, tt.want) {
				t.Errorf("Fields() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestProblemsErr(t *testing.T) {
	t.Run("nothing recorded", func(t *testing.T) {
		var p switchyard.Problems
		if err := p.Err("provider"); err != nil {
			t.Fatalf("Err() = %v, want nil", err)
		}
	})
	t.Run("one problem is named in the message", func(t *testing.T) {
		var p switchyard.Problems
		p.Add("slug", "invalid_slug", "must be lower-case, not %q", "A")
		err := p.Err("provider")
		wantProblems(t, err, problem{"slug", "invalid_slug"})
		if got, want := switchyard.ErrorMessage(err), `provider is invalid: slug: must be lower-case, not "A"`; got != want {
			t.Errorf("message = %q, want %q", got, want)
		}
	})
	t.Run("several problems are counted", func(t *testing.T) {
		var p switchyard.Problems
		p.Add("name", "required", "is required")
		p.Add("slug", "invalid_slug", "bad")
		p.Add("protocol", "invalid_enum", "bad")
		err := p.Err("provider")
		wantProblems(t, err, problem{"name", "required"}, problem{"slug", "invalid_slug"}, problem{"protocol", "invalid_enum"})
		if got := switchyard.ErrorMessage(err); !strings.Contains(got, "3 problem(s)") {
			t.Errorf("message = %q, want the count of problems", got)
		}
	})
}
