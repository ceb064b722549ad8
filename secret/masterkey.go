package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// MasterKeyEnv is the environment variable that carries the master key.
const MasterKeyEnv = "SWITCHYARD_MASTER_KEY"

// MasterKeyFile is the name of the master key file inside the data directory.
const MasterKeyFile = "master.key"

// KeySize is the size in bytes of the master key and of every data key
// (AES-256).
const KeySize = 32

// Domain-separation strings. Changing any of them makes existing data
// unreadable, so they are versioned, never edited.
const (
	masterKeyIDDomain = "switchyard master key id v1\x00"
	wrapKeyInfo       = "switchyard data key wrapping v1"
)

// Options tunes how keys are made. The zero value is what production uses.
type Options struct {
	// Rand is the source of randomness for new data keys and their ids.
	// Nil means crypto/rand. Nonces always come from crypto/rand.
	Rand io.Reader
}

func (o Options) rand() io.Reader {
	if o.Rand == nil {
		return rand.Reader
	}
	return o.Rand
}

// MasterKey is the key-encryption key (KEK). It only wraps and unwraps data
// keys; it never encrypts stored values directly. Printing or logging a
// MasterKey shows only its id.
type MasterKey struct {
	id   string
	wrap cipher.AEAD // keyed with a key derived from the master key
	opts Options
}

// NewMasterKey makes a master key from 32 raw bytes.
func NewMasterKey(raw []byte, opts Options) (*MasterKey, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrInvalidMasterKey, len(raw), KeySize)
	}
	sum := sha256.Sum256(append([]byte(masterKeyIDDomain), raw...))
	// The wrapping key is derived rather than the master key used as is, so
	// that later uses of the master key (such as sealing exports) get their
	// own keys.
	wk, err := hkdf.Key(sha256.New, raw, nil, wrapKeyInfo, KeySize)
	if err != nil {
		return nil, fmt.Errorf("secret: deriving the wrapping key: %w", err)
	}
	aead, err := newAEAD(wk)
	if err != nil {
		return nil, err
	}
	return &MasterKey{id: hex.EncodeToString(sum[:4]), wrap: aead, opts: opts}, nil
}

// ParseMasterKey decodes a master key from base64: standard or URL-safe,
// padded or not. It must decode to exactly 32 bytes. The error never contains
// the value; the caller adds where the value came from.
func ParseMasterKey(text string, opts Options) (*MasterKey, error) {
	raw, err := decodeKey(strings.TrimSpace(text))
	if err != nil {
		return nil, err
	}
	return NewMasterKey(raw, opts)
}

func decodeKey(s string) ([]byte, error) {
	if s == "" {
		return nil, fmt.Errorf("%w: empty; generate one with: openssl rand -base64 32", ErrInvalidMasterKey)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		raw, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(raw) != KeySize {
			return nil, fmt.Errorf("%w: decodes to %d bytes, want %d; generate one with: openssl rand -base64 32", ErrInvalidMasterKey, len(raw), KeySize)
		}
		return raw, nil
	}
	return nil, fmt.Errorf("%w: not valid base64 (standard or URL-safe); generate one with: openssl rand -base64 32", ErrInvalidMasterKey)
}

// GenerateMasterKey returns a new random master key as standard base64, the
// form SWITCHYARD_MASTER_KEY and the key file take.
func GenerateMasterKey() (string, error) {
	raw := make([]byte, KeySize)
	if _, err := io.ReadFull(rand.Reader, raw); err != nil {
		return "", fmt.Errorf("secret: generating a master key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(raw), nil
}

// LoadMasterKey finds the master key: envValue (the value of
// SWITCHYARD_MASTER_KEY) when it is not empty, otherwise the file
// <dataDir>/master.key. When neither exists, it generates a key into that
// file with mode 0600 and reports generated = true, so that the caller can
// warn that the file must be backed up: without it the stored secrets cannot
// be decrypted.
//
// A key file readable by anyone but its owner is refused. Errors name the
// setting or the file, never the key.
func LoadMasterKey(envValue, dataDir string) (mk *MasterKey, generated bool, err error) {
	if strings.TrimSpace(envValue) != "" {
		mk, err := ParseMasterKey(envValue, Options{})
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", MasterKeyEnv, err)
		}
		return mk, false, nil
	}
	if dataDir == "" {
		return nil, false, fmt.Errorf("%w: %s is not set and there is no data directory to keep %s in", ErrInvalidMasterKey, MasterKeyEnv, MasterKeyFile)
	}
	path := filepath.Join(dataDir, MasterKeyFile)
	mk, err = readKeyFile(path)
	if err == nil {
		return mk, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	created, err := createKeyFile(dataDir, path)
	if err != nil {
		return nil, false, err
	}
	// Read back what is on disk: if another process created the file first,
	// its key wins and both processes use the same one.
	mk, err = readKeyFile(path)
	if err != nil {
		return nil, false, err
	}
	return mk, created, nil
}

func readKeyFile(path string) (*MasterKey, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("master key file %s: %w: not a regular file", path, ErrInvalidMasterKey)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("master key file %s: %w: mode %04o lets other users read it; run: chmod 600 %s",
			path, ErrInsecureKeyFile, fi.Mode().Perm(), path)
	}
	text, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	mk, err := ParseMasterKey(string(text), Options{})
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	return mk, nil
}

// createKeyFile writes a new key to path unless the file already exists.
// It reports whether it created the file.
func createKeyFile(dataDir, path string) (bool, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return false, fmt.Errorf("creating data directory %s for the master key: %w", dataDir, err)
	}
	text, err := GenerateMasterKey()
	if err != nil {
		return false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("creating master key file %s: %w", path, err)
	}
	_, err = f.WriteString(text + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return false, fmt.Errorf("writing master key file %s: %w", path, err)
	}
	syncDir(dataDir)
	return true, nil
}

// syncDir makes a new directory entry durable where the platform allows it.
// A failure is ignored: the file itself has been synced, and some systems
// cannot sync directories.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// ID is a short, stable fingerprint of the master key (8 hex characters). It
// identifies the key in errors and logs without revealing it.
func (mk *MasterKey) ID() string { return mk.id }

// String shows only the id.
func (mk *MasterKey) String() string { return "master key " + mk.id }

// GoString shows only the id, for %#v.
func (mk *MasterKey) GoString() string { return mk.String() }

// Format shows only the id, for every verb.
func (mk *MasterKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, mk.String()) }

// LogValue shows only the id in structured logs.
func (mk *MasterKey) LogValue() slog.Value { return slog.StringValue(mk.String()) }

// NewDataKey makes a random data key and returns its id and the key wrapped
// with the master key, for the caller to store (in encryption_keys). The
// wrapped form is wk:v1:<master key id>:<base64url(nonce‖ciphertext‖tag)>,
// bound to the data key id and the master key id.
func (mk *MasterKey) NewDataKey() (id string, wrapped string, err error) {
	var buf [4 + KeySize]byte
	if _, err := io.ReadFull(mk.opts.rand(), buf[:]); err != nil {
		return "", "", fmt.Errorf("secret: generating a data key: %w", err)
	}
	id = "k" + hex.EncodeToString(buf[:4])
	key := buf[4:]
	sealed := mk.wrap.Seal(nil, nil, key, wrapAAD(id, mk.id))
	return id, wrappedPrefix + mk.id + ":" + b64.EncodeToString(sealed), nil
}

const wrappedPrefix = "wk:v1:"

func wrapAAD(kid, mkid string) []byte {
	return []byte("encryption_keys/" + kid + "\x00master_key/" + mkid)
}

// unwrap returns the data key in wrapped, checking that it was made for kid
// by this master key.
func (mk *MasterKey) unwrap(kid, wrapped string) ([]byte, error) {
	rest, ok := strings.CutPrefix(wrapped, wrappedPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: wrapped data key %q does not start with %q", ErrFormat, kid, wrappedPrefix)
	}
	mkid, data, ok := strings.Cut(rest, ":")
	if !ok || mkid == "" {
		return nil, fmt.Errorf("%w: wrapped data key %q has no master key id", ErrFormat, kid)
	}
	if mkid != mk.id {
		return nil, fmt.Errorf("%w: data key %q: master key %s does not match the key that encrypted the data (%s); set %s or restore %s to the key this database was created with",
			ErrWrongMasterKey, kid, mk.id, safeID(mkid), MasterKeyEnv, MasterKeyFile)
	}
	sealed, err := b64.DecodeString(data)
	if err != nil || len(sealed) != mk.wrap.Overhead()+KeySize {
		return nil, fmt.Errorf("%w: wrapped data key %q is not base64url of %d bytes", ErrFormat, kid, mk.wrap.Overhead()+KeySize)
	}
	key, err := mk.wrap.Open(nil, nil, sealed, wrapAAD(kid, mk.id))
	if err != nil {
		return nil, fmt.Errorf("%w: wrapped data key %q was modified or belongs to another key id", ErrDecrypt, kid)
	}
	return key, nil
}

// b64 is the encoding of every binary part of a stored value.
var b64 = base64.RawURLEncoding.Strict()

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	// The nonce is random, generated by crypto/rand inside Seal and prepended
	// to the ciphertext: nonce(12)‖ciphertext‖tag(16).
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	return aead, nil
}

// safeID returns id for an error message when it looks like an id, and a
// placeholder otherwise, so that a garbled value cannot carry anything else
// into a message.
func safeID(id string) string {
	if validKeyID(id) {
		return id
	}
	return "(malformed id)"
}

// validKeyID reports whether id can be a key id: 1 to 16 characters of
// lowercase letters, digits, '-' and '_'. Ids appear in error messages, so
// the rule is strict enough that a mangled value cannot smuggle much into one.
func validKeyID(id string) bool {
	if id == "" || len(id) > maxKeyIDLen {
		return false
	}
	for _, c := range id {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

const maxKeyIDLen = 16
