// Package secret encrypts stored secrets (API keys, client secrets, service
// account JSON) with AES-256-GCM envelope encryption.
//
// A master key (the key-encryption key, from SWITCHYARD_MASTER_KEY or
// <data dir>/master.key) wraps random data keys; the database stores the data
// keys only in wrapped form. A Keyring holds the unwrapped data keys, one of
// them active. Encrypt seals a value with the active key and additional data
// naming where the value lives (<table>/<row id>/<field>), so a ciphertext
// copied to another row or field does not decrypt. A stored value reads
//
//	enc:v1:<key id>:<base64url(nonce‖ciphertext‖tag)>
//
// Rotation adds a new data key and makes it active; values encrypted with
// older keys still decrypt as long as their key stays in the keyring.
//
// Errors never contain plaintext or key material. They wrap one of the
// sentinel errors below, for errors.Is.
package secret

import (
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
)

// Sentinel errors. Every error from this package wraps one of them.
var (
	// ErrKeyNotFound: the value was encrypted with a data key that is not in
	// the keyring, or there is no active key.
	ErrKeyNotFound = errors.New("data key not found")
	// ErrDecrypt: authentication failed; the ciphertext was modified or
	// belongs to another field, row or key.
	ErrDecrypt = errors.New("cannot decrypt")
	// ErrFormat: the stored value or wrapped key is not in the expected form.
	ErrFormat = errors.New("malformed encrypted value")
	// ErrWrongMasterKey: a data key was wrapped by another master key.
	ErrWrongMasterKey = errors.New("wrong master key")
	// ErrInvalidMasterKey: the master key setting or file is not a base64
	// 32-byte key.
	ErrInvalidMasterKey = errors.New("invalid master key")
	// ErrInsecureKeyFile: the master key file is readable by other users.
	ErrInsecureKeyFile = errors.New("master key file permissions too open")
	// ErrKeyExists: a different data key with the same id is already in the
	// keyring.
	ErrKeyExists = errors.New("data key id already in keyring")
)

const storedPrefix = "enc:v1:"

// Keyring holds unwrapped data keys and the id of the active one. It is safe
// for concurrent use.
type Keyring struct {
	mk *MasterKey

	mu     sync.RWMutex
	keys   map[string]*dataKey
	active string
}

type dataKey struct {
	raw  []byte
	aead cipher.AEAD
}

// NewKeyring returns an empty keyring whose data keys are wrapped by mk.
func NewKeyring(mk *MasterKey) *Keyring {
	return &Keyring{mk: mk, keys: make(map[string]*dataKey)}
}

// Add unwraps a data key (as made by MasterKey.NewDataKey) and adds it under
// id. Adding the same key twice is a no-op. A key wrapped by another master key
// fails with ErrWrongMasterKey; a modified one with ErrDecrypt.
func (kr *Keyring) Add(id, wrapped string) error {
	if !validKeyID(id) {
		return fmt.Errorf("secret: %w: data key id must be 1 to 16 lowercase letters, digits, '-' or '_'", ErrFormat)
	}
	raw, err := kr.mk.unwrap(id, wrapped)
	if err != nil {
		return fmt.Errorf("secret: adding data key: %w", err)
	}
	aead, err := newAEAD(raw)
	if err != nil {
		return err
	}
	kr.mu.Lock()
	defer kr.mu.Unlock()
	if old, ok := kr.keys[id]; ok {
		if string(old.raw) == string(raw) {
			return nil
		}
		return fmt.Errorf("secret: %w: %q holds a different key", ErrKeyExists, id)
	}
	kr.keys[id] = &dataKey{raw: raw, aead: aead}
	return nil
}

// SetActive makes the key id the one Encrypt uses. It must have been added.
func (kr *Keyring) SetActive(id string) error {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	if _, ok := kr.keys[id]; !ok {
		return fmt.Errorf("secret: cannot activate data key %s: %w: it is not in the keyring", quoteID(id), ErrKeyNotFound)
	}
	kr.active = id
	return nil
}

// Active returns the id of the active data key, or "" when none is set.
func (kr *Keyring) Active() string {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	return kr.active
}

// IDs returns the ids of the keys in the keyring, sorted.
func (kr *Keyring) IDs() []string {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	ids := make([]string, 0, len(kr.keys))
	for id := range kr.keys {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// String describes the keyring without key material.
func (kr *Keyring) String() string {
	return fmt.Sprintf("keyring (%s, active %q, keys %v)", kr.mk, kr.Active(), kr.IDs())
}

// GoString describes the keyring without key material, for %#v.
func (kr *Keyring) GoString() string { return kr.String() }

// Format describes the keyring without key material, for every verb.
func (kr *Keyring) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, kr.String()) }

// LogValue describes the keyring without key material.
func (kr *Keyring) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("master_key", kr.mk.ID()),
		slog.String("active", kr.Active()),
		slog.Any("keys", kr.IDs()),
	)
}

// Encrypt seals plaintext with the active data key. aad names where the value
// is stored, as <table>/<row id>/<field>; Decrypt must be given the same aad.
// The result is enc:v1:<key id>:<base64url(nonce‖ciphertext‖tag)>.
func (kr *Keyring) Encrypt(plaintext []byte, aad string) (string, error) {
	kr.mu.RLock()
	id := kr.active
	k := kr.keys[id]
	kr.mu.RUnlock()
	if k == nil {
		return "", fmt.Errorf("secret: encrypting %q: %w: no active data key", aad, ErrKeyNotFound)
	}
	sealed := k.aead.Seal(nil, nil, plaintext, []byte(aad))
	return storedPrefix + id + ":" + b64.EncodeToString(sealed), nil
}

// Decrypt opens a value made by Encrypt with the same aad. It fails with
// ErrFormat when stored is not an encrypted value, ErrKeyNotFound when its
// data key is not in the keyring, and ErrDecrypt when it was modified or
// belongs to another aad.
func (kr *Keyring) Decrypt(stored, aad string) ([]byte, error) {
	id, sealed, err := parse(stored)
	if err != nil {
		return nil, fmt.Errorf("secret: decrypting %q: %w", aad, err)
	}
	kr.mu.RLock()
	k := kr.keys[id]
	kr.mu.RUnlock()
	if k == nil {
		return nil, fmt.Errorf("secret: decrypting %q: %w: %q is not in the keyring (was the database restored without its encryption keys, or is %s not the key it was created with?)",
			aad, ErrKeyNotFound, id, MasterKeyEnv)
	}
	plaintext, err := k.aead.Open(nil, nil, sealed, []byte(aad))
	if err != nil {
		return nil, fmt.Errorf("secret: decrypting %q with data key %q: %w: the ciphertext does not belong to this field or was modified",
			aad, id, ErrDecrypt)
	}
	return plaintext, nil
}

// KeyID returns the id of the data key that encrypted stored, without
// decrypting it.
func KeyID(stored string) (string, error) {
	id, _, err := parse(stored)
	if err != nil {
		return "", fmt.Errorf("secret: %w", err)
	}
	return id, nil
}

// IsEncrypted reports whether v looks like a value made by Encrypt.
func IsEncrypted(v string) bool { return strings.HasPrefix(v, storedPrefix) }

// minSealed is the length of the sealed part of an empty plaintext: nonce and
// tag.
const minSealed = 12 + 16

// parse splits a stored value. Its errors never quote the value: a plaintext
// stored by mistake must not end up in a log.
func parse(stored string) (id string, sealed []byte, err error) {
	rest, ok := strings.CutPrefix(stored, storedPrefix)
	if !ok {
		return "", nil, fmt.Errorf("%w: value does not start with %q", ErrFormat, storedPrefix)
	}
	id, data, ok := strings.Cut(rest, ":")
	if !ok {
		return "", nil, fmt.Errorf("%w: want %s<key id>:<data>", ErrFormat, storedPrefix)
	}
	if !validKeyID(id) {
		return "", nil, fmt.Errorf("%w: the key id is not 1 to 16 lowercase letters, digits, '-' or '_'", ErrFormat)
	}
	sealed, err = b64.DecodeString(data)
	if err != nil {
		return "", nil, fmt.Errorf("%w: data of key %q is not unpadded base64url", ErrFormat, id)
	}
	if len(sealed) < minSealed {
		return "", nil, fmt.Errorf("%w: data of key %q is %d bytes, shorter than nonce and tag (%d)", ErrFormat, id, len(sealed), minSealed)
	}
	return id, sealed, nil
}

func quoteID(id string) string {
	if validKeyID(id) {
		return fmt.Sprintf("%q", id)
	}
	return "(malformed id)"
}
