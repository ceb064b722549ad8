package switchyard_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard/switchyard"
)

// problem is one expected field error: its path and its code.
type problem struct {
	field, code string
}

func (p problem) String() string { return p.field + " (" + p.code + ")" }

// problemsOf returns the field errors of err as (field, code) pairs, sorted.
func problemsOf(err error) []problem {
	var got []problem
	for _, f := range switchyard.ErrorFields(err) {
		got = append(got, problem{f.Field, f.Code})
	}
	slices.SortFunc(got, func(a, b problem) int { return strings.Compare(a.String(), b.String()) })
	return got
}

// wantProblems asserts that err is an EINVALID error reporting exactly the
// given problems, in any order. No problems means err must be nil.
func wantProblems(t *testing.T, err error, want ...problem) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("want no error, got %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("want problems %v, got no error", want)
	}
	if code := switchyard.ErrorCode(err); code != switchyard.EINVALID {
		t.Fatalf("error code = %q, want %q (error: %v)", code, switchyard.EINVALID, err)
	}
	want = slices.Clone(want)
	slices.SortFunc(want, func(a, b problem) int { return strings.Compare(a.String(), b.String()) })
	if got := problemsOf(err); !slices.Equal(got, want) {
		t.Fatalf("problems = %v\nwant       %v\nerror: %v", got, want, err)
	}
}

// fieldMessage returns the message of the field error at field, failing the
// test when there is none.
func fieldMessage(t *testing.T, err error, field string) string {
	t.Helper()
	for _, f := range switchyard.ErrorFields(err) {
		if f.Field == field {
			return f.Message
		}
	}
	t.Fatalf("no problem at %q in %v", field, err)
	return ""
}

// wantNotInError asserts that secret appears nowhere in err: not in its
// text, its caller-safe message or any field message.
func wantNotInError(t *testing.T, err error, secret string) {
	t.Helper()
	texts := []string{err.Error(), switchyard.ErrorMessage(err), fmt.Sprintf("%+v", err)}
	for _, f := range switchyard.ErrorFields(err) {
		texts = append(texts, f.Message)
	}
	for _, s := range texts {
		if strings.Contains(s, secret) {
			t.Fatalf("error text %q contains %q", s, secret)
		}
	}
}
