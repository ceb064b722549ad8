package switchyard

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
)

// Secret holds a credential value (an API key, a client secret, a service
// account JSON). The plaintext is reachable only through Reveal: printing,
// logging or JSON-encoding a Secret shows at most whether it is set and a
// masked hint, so a secret cannot leak by accident into a response, a log
// line or an error message.
type Secret struct {
	value  string
	hint   string
	err    error
	sealed bool
}

// NewSecret wraps a plaintext value and computes its hint.
func NewSecret(plaintext string) Secret {
	return Secret{value: plaintext, hint: SecretHint(plaintext)}
}

// SealedSecret describes a stored secret whose plaintext is not available:
// either not loaded, or not decryptable (err says why, without the value).
// Handing a sealed secret back to the store keeps the stored value.
func SealedSecret(hint string, err error) Secret {
	return Secret{hint: hint, err: err, sealed: true}
}

// Reveal returns the plaintext. Call it only at the point of use (signing a
// request, encrypting for storage).
func (s Secret) Reveal() string { return s.value }

// IsSet reports whether the secret has a value (revealed or sealed).
func (s Secret) IsSet() bool { return s.value != "" || s.sealed }

// Hint is the masked form shown to people, such as "sk-…abcd"; empty for
// short values, where any part would reveal too much.
func (s Secret) Hint() string { return s.hint }

// Err is the reason a stored secret could not be decrypted, if any.
func (s Secret) Err() error { return s.err }

// String masks the value.
func (s Secret) String() string {
	if !s.IsSet() {
		return "[secret: not set]"
	}
	if s.hint == "" {
		return "[secret]"
	}
	return "[secret " + s.hint + "]"
}

// GoString masks the value for %#v.
func (s Secret) GoString() string { return s.String() }

// Format masks the value for every verb.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// LogValue masks the value in structured logs.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// SecretView is the JSON shape a secret has in every response.
type SecretView struct {
	Set  bool   `json:"set"`
	Hint string `json:"hint,omitempty"`
}

// View returns the public shape of the secret.
func (s Secret) View() SecretView { return SecretView{Set: s.IsSet(), Hint: s.hint} }

// MarshalJSON writes only {"set": …, "hint": …}.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.View()) }

// UnmarshalJSON reads a plaintext string (how clients send a secret). The
// masked object shape is rejected so that a hint is never stored as a value.
func (s *Secret) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("a secret must be sent as a string")
	}
	*s = NewSecret(v)
	return nil
}

// minHintLength is the shortest value that gets a hint: below it, showing
// seven characters would reveal too much of the value.
const minHintLength = 20

// SecretHint masks a value as its first three and last four characters
// ("sk-…abcd"), or returns "" when the value is short or not a single line.
func SecretHint(v string) string {
	if len(v) < minHintLength || strings.ContainsAny(v, "\n\r\t {}\"") {
		return ""
	}
	return v[:3] + "…" + v[len(v)-4:]
}
