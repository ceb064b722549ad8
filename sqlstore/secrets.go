package sqlstore

import (
	"fmt"

	"github.com/switchyard/switchyard"
)

// sealedField is how one secret field is stored: its ciphertext, which
// carries the key id, and the masked hint shown in responses.
type sealedField struct {
	CT   string `json:"ct"`
	Hint string `json:"hint,omitempty"`
}

// aad is the additional data that binds a ciphertext to its place.
func aad(table, id, field string) string { return table + "/" + id + "/" + field }

// seal encrypts every set secret, binding each to table/id/<prefix><name>.
// A secret that is set but carries no plaintext (read from the store and not
// decryptable, or deliberately kept) keeps its existing ciphertext.
func (s *store) seal(table, id, prefix string, secrets map[string]switchyard.Secret, existing map[string]sealedField) (map[string]sealedField, error) {
	out := make(map[string]sealedField, len(secrets))
	for name, v := range secrets {
		if v.Reveal() == "" {
			if !v.IsSet() {
				continue
			}
			old, ok := existing[name]
			if !ok {
				return nil, &switchyard.Error{Code: switchyard.EINVALID, Message: fmt.Sprintf("secret %s%s has no stored value to keep; send its value", prefix, name),
					Fields: []switchyard.FieldError{{Field: prefix + name, Code: "required", Message: "send the secret's value"}}}
			}
			out[name] = old
			continue
		}
		if s.keys == nil {
			return nil, &switchyard.Error{Code: switchyard.EINTERNAL, Message: "no encryption keyring is loaded"}
		}
		ct, err := s.keys.Encrypt([]byte(v.Reveal()), aad(table, id, prefix+name))
		if err != nil {
			return nil, fmt.Errorf("encrypt %s of %s %s: %w", prefix+name, table, id, err)
		}
		out[name] = sealedField{CT: ct, Hint: v.Hint()}
	}
	return out, nil
}

// open decrypts every sealed field. A field that does not decrypt is
// returned sealed, with the reason, so one bad secret does not hide the
// resource; callers that need the value check Secret.Err.
func (s *store) open(table, id, prefix string, sealed map[string]sealedField) map[string]switchyard.Secret {
	if len(sealed) == 0 {
		return nil
	}
	out := make(map[string]switchyard.Secret, len(sealed))
	for name, f := range sealed {
		if s.keys == nil {
			out[name] = switchyard.SealedSecret(f.Hint, &switchyard.Error{Code: switchyard.ESECRET, Message: "no encryption keyring is loaded"})
			continue
		}
		pt, err := s.keys.Decrypt(f.CT, aad(table, id, prefix+name))
		if err != nil {
			out[name] = switchyard.SealedSecret(f.Hint, &switchyard.Error{Code: switchyard.ESECRET,
				Message: fmt.Sprintf("secret %s%s of %s %s cannot be decrypted: %v", prefix, name, table, id, err)})
			continue
		}
		out[name] = switchyard.NewSecret(string(pt))
	}
	return out
}
