package transfer

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/switchyard/switchyard"
)

// MinPassphrase is the shortest passphrase that may seal secrets.
const MinPassphrase = 12

// secretSet is the plaintext of the sealed block: every secret of the
// document, by where it belongs.
type secretSet struct {
	// Providers by slug.
	Providers map[string]providerSecrets `json:"providers,omitempty"`
	// Connections by "owner/name": the connection's own credential.
	Connections map[string]map[string]string `json:"connections,omitempty"`
	// AlertChannels by name, then secret field.
	AlertChannels map[string]map[string]string `json:"alert_channels,omitempty"`
}

type providerSecrets struct {
	// Credentials by name, then secret field.
	Credentials map[string]map[string]string `json:"credentials,omitempty"`
	Headers     map[string]string            `json:"headers,omitempty"`
}

func checkPassphrase(p string) error {
	if len(p) < MinPassphrase {
		return switchyard.Errorf(switchyard.EINVALID, "the passphrase must be at least %d characters", MinPassphrase)
	}
	return nil
}

// scryptLogN is the scrypt work factor: 2^16 takes about 64 MiB and a
// quarter of a second here, against age's default 2^18 (256 MiB, a second),
// which a server sealing on request should not spend.
const scryptLogN = 16

// seal encrypts the set with the passphrase (age, scrypt recipient: a
// well-known format that `age -d` also opens), armoured.
func seal(set *secretSet, passphrase string) (string, error) {
	if err := checkPassphrase(passphrase); err != nil {
		return "", err
	}
	r, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return "", err
	}
	r.SetWorkFactor(scryptLogN)
	plain, err := json.Marshal(set)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	aw := armor.NewWriter(&out)
	w, err := age.Encrypt(aw, r)
	if err != nil {
		return "", err
	}
	if _, err := w.Write(plain); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	if err := aw.Close(); err != nil {
		return "", err
	}
	return out.String(), nil
}

// unseal decrypts a sealed block. A wrong passphrase is EINVALID naming
// the passphrase, never the content.
func unseal(sealed, passphrase string) (*secretSet, error) {
	if passphrase == "" {
		return nil, switchyard.Errorf(switchyard.EINVALID, "the document's secrets are sealed: give the passphrase it was exported with (or import without secrets)")
	}
	id, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		return nil, err
	}
	r, err := age.Decrypt(armor.NewReader(strings.NewReader(sealed)), id)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) || strings.Contains(err.Error(), "incorrect passphrase") {
			return nil, switchyard.Errorf(switchyard.EINVALID, "the passphrase does not open the document's secrets")
		}
		return nil, switchyard.Errorf(switchyard.EINVALID, "the document's sealed secrets cannot be read: %v", err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err != nil {
		return nil, switchyard.Errorf(switchyard.EINVALID, "the document's sealed secrets cannot be read: %v", err)
	}
	var set secretSet
	if err := json.Unmarshal(plain, &set); err != nil {
		return nil, switchyard.Errorf(switchyard.EINVALID, "the document's sealed secrets are not in the expected form")
	}
	return &set, nil
}
