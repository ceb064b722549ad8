package switchyard_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/switchyard/switchyard"
)

func TestSecretNeverPrintsPlaintext(t *testing.T) {
	const canary = "sk-canary-0123456789-abcdefXYZ"
	s := switchyard.NewSecret(canary)
	type holder struct {
		Key switchyard.Secret
	}
	var logs strings.Builder
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "secret", s, "holder", holder{s})
	js, err := json.Marshal(holder{s})
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":   fmt.Sprintf("%v", s),
		"%s":   fmt.Sprintf("%s", s),
		"%q":   fmt.Sprintf("%q", s),
		"%+v":  fmt.Sprintf("%+v", holder{s}),
		"%#v":  fmt.Sprintf("%#v", holder{s}),
		"%x":   fmt.Sprintf("%x", s),
		"json": string(js),
		"slog": logs.String(),
		"err":  fmt.Errorf("wrapped: %v", s).Error(),
	}
	for name, out := range outputs {
		for i := 0; i+6 <= len(canary); i++ {
			if strings.Contains(out, canary[i:i+6]) {
				t.Errorf("%s output %q contains %q of the secret", name, out, canary[i:i+6])
				break
			}
		}
	}
	if got := s.Reveal(); got != canary {
		t.Fatalf("Reveal() = %q", got)
	}
	if !strings.Contains(string(js), `"set":true`) || !strings.Contains(string(js), `"hint":"sk-…XYZ"`) && !strings.Contains(string(js), "XYZ") {
		t.Errorf("json view = %s, want set and hint", js)
	}
}

func TestSecretHint(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"short-key-123", ""},
		{"AIzaSyA-0123456789abcdefghij", "AIz…ghij"},
		{"sk-proj-abcdefghijklmnopqrstuvwxyz1234", "sk-…1234"},
		{`{"type":"service_account","private_key":"-----BEGIN"}`, ""},
	}
	for _, tt := range tests {
		if got := switchyard.SecretHint(tt.in); got != tt.want {
			t.Errorf("SecretHint(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSecretUnmarshalRejectsMaskedShape(t *testing.T) {
	var s switchyard.Secret
	if err := json.Unmarshal([]byte(`{"set":true,"hint":"sk-…abcd"}`), &s); err == nil {
		t.Fatal("unmarshalling the masked view into a Secret succeeded; a hint could be stored as a value")
	}
	if err := json.Unmarshal([]byte(`"sk-new-value-0123456789"`), &s); err != nil || s.Reveal() != "sk-new-value-0123456789" {
		t.Fatalf("plain string: %v, %q", err, s.Reveal())
	}
}
