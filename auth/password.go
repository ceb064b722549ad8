package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/switchyard/switchyard"
)

// Current argon2id parameters: the first OWASP Password Storage Cheat Sheet
// option (19 MiB of memory, 2 passes, 1 lane), a 16-byte salt and a 32-byte
// key.
const (
	argonMemory  uint32 = 19456 // KiB
	argonTime    uint32 = 2
	argonThreads uint8  = 1
	argonSaltLen        = 16
	argonKeyLen         = 32
)

// Bounds on the parameters read from a stored hash. A hash is data from the
// database: absurd values must be refused, not obeyed (m=1<<30 would try to
// allocate 1 TiB).
const (
	maxArgonMemory  = 1 << 20 // KiB, 1 GiB
	maxArgonTime    = 32
	maxArgonThreads = 16
	minArgonSaltLen = 8 // the argon2 specification's minimum
	maxArgonSaltLen = 64
	minArgonKeyLen  = 16
	maxArgonKeyLen  = 64
	maxHashLen      = 256 // longer than any hash this package accepts
	minBcryptCost   = 4
	maxBcryptCost   = 16
	maxBcryptPwLen  = 72 // bcrypt ignores bytes past 72
)

// Password policy.
const (
	MinPasswordChars = 12
	MaxPasswordBytes = 1024
)

// ErrMalformedHash reports a stored password hash that cannot be parsed or
// whose parameters are out of bounds. It is a bug or a corrupted row, never
// the caller's fault; the error text never contains the hash.
var ErrMalformedHash = errors.New("malformed password hash")

var b64 = base64.RawStdEncoding.Strict()

// HashPassword hashes pw with argon2id and the current parameters, and
// returns it in the PHC string form
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded standard base64).
func HashPassword(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether pw matches hash. The parameters are read
// from hash, so hashes made with older parameters keep working; needsRehash
// is true when pw matched and the hash is weaker than what HashPassword makes
// now (or is a legacy bcrypt hash), so the caller should store a fresh
// HashPassword(pw). A malformed hash is an error wrapping ErrMalformedHash.
//
// The key comparison takes constant time. Callers should also spend the
// time of one verification when the user does not exist, so that response
// times do not reveal which usernames are taken.
func VerifyPassword(hash, pw string) (ok bool, needsRehash bool, err error) {
	if len(hash) > maxHashLen {
		return false, false, fmt.Errorf("%w: too long", ErrMalformedHash)
	}
	if isBcrypt(hash) {
		return verifyBcrypt(hash, pw)
	}
	p, err := parseArgon2id(hash)
	if err != nil {
		return false, false, err
	}
	if len(pw) > MaxPasswordBytes {
		// No stored password can be this long (ValidatePassword refuses
		// it); skip the work rather than hash an oversized input.
		return false, false, nil
	}
	key := argon2.IDKey([]byte(pw), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	if subtle.ConstantTimeCompare(key, p.key) != 1 {
		return false, false, nil
	}
	weaker := p.memory < argonMemory || p.time < argonTime ||
		len(p.salt) < argonSaltLen || len(p.key) < argonKeyLen
	return true, weaker, nil
}

type argonParams struct {
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

// parseArgon2id parses $argon2id$v=19$m=M,t=T,p=P$salt$key, the form the
// reference implementation and HashPassword write, with the parameters in
// that order.
func parseArgon2id(s string) (argonParams, error) {
	var p argonParams
	bad := func(what string) (argonParams, error) {
		return argonParams{}, fmt.Errorf("%w: %s", ErrMalformedHash, what)
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return bad("want $argon2id$v=19$m=…,t=…,p=…$salt$hash")
	}
	if parts[1] != "argon2id" {
		return bad("unsupported algorithm")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("unsupported argon2 version")
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return bad("want parameters m=…,t=…,p=…")
	}
	m, err := param(kv[0], "m=", maxArgonMemory)
	if err != nil {
		return bad(err.Error())
	}
	t, err := param(kv[1], "t=", maxArgonTime)
	if err != nil {
		return bad(err.Error())
	}
	threads, err := param(kv[2], "p=", maxArgonThreads)
	if err != nil {
		return bad(err.Error())
	}
	if m < 8*threads {
		return bad("m must be at least 8*p")
	}
	p.memory, p.time, p.threads = m, t, uint8(threads)
	if p.salt, err = b64.DecodeString(parts[4]); err != nil {
		return bad("salt is not base64")
	}
	if len(p.salt) < minArgonSaltLen || len(p.salt) > maxArgonSaltLen {
		return bad("salt length out of bounds")
	}
	if p.key, err = b64.DecodeString(parts[5]); err != nil {
		return bad("hash is not base64")
	}
	if len(p.key) < minArgonKeyLen || len(p.key) > maxArgonKeyLen {
		return bad("hash length out of bounds")
	}
	return p, nil
}

// param parses "name=N" with 1 <= N <= limit.
func param(s, name string, limit uint32) (uint32, error) {
	v, ok := strings.CutPrefix(s, name)
	if !ok {
		return 0, fmt.Errorf("want %s…", name)
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n < 1 || n > uint64(limit) {
		return 0, fmt.Errorf("%sN needs 1 <= N <= %d", name, limit)
	}
	return uint32(n), nil
}

func isBcrypt(hash string) bool {
	return strings.HasPrefix(hash, "$2a$") || strings.HasPrefix(hash, "$2b$") || strings.HasPrefix(hash, "$2y$")
}

// verifyBcrypt checks a legacy bcrypt hash (users imported from elsewhere;
// switchyard.User allows them). A match always needs a rehash to argon2id.
func verifyBcrypt(hash, pw string) (bool, bool, error) {
	cost, err := bcrypt.Cost([]byte(hash))
	if err != nil {
		return false, false, fmt.Errorf("%w: bad bcrypt hash", ErrMalformedHash)
	}
	if cost < minBcryptCost || cost > maxBcryptCost {
		return false, false, fmt.Errorf("%w: bcrypt cost out of bounds", ErrMalformedHash)
	}
	if len(pw) > maxBcryptPwLen {
		// bcrypt would compare only the first 72 bytes; refuse rather than
		// accept a password that merely starts like the real one.
		return false, false, nil
	}
	switch err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)); {
	case err == nil:
		return true, true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, false, nil
	default:
		return false, false, fmt.Errorf("%w: bad bcrypt hash", ErrMalformedHash)
	}
}

// ValidatePassword checks a new password against the policy: at least 12
// characters, at most 1024 bytes, not only white space. It returns an
// EINVALID *switchyard.Error with field errors on "password"; the messages
// say what is needed and never contain the password.
func ValidatePassword(pw string) error {
	var pr switchyard.Problems
	switch {
	case pw == "":
		pr.Add("password", "required", "a password is required: at least %d characters", MinPasswordChars)
	case strings.TrimFunc(pw, unicode.IsSpace) == "":
		pr.Add("password", "blank", "must contain characters other than spaces")
	case utf8.RuneCountInString(pw) < MinPasswordChars:
		pr.Add("password", "too_short", "must be at least %d characters long", MinPasswordChars)
	}
	if len(pw) > MaxPasswordBytes {
		pr.Add("password", "too_long", "must be at most %d bytes long", MaxPasswordBytes)
	}
	return pr.Err("password")
}

// passwordAlphabet leaves out characters that are easily misread: 0 O 1 l I.
const passwordAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// GeneratedPasswordLen is the length of GeneratePassword's passwords
// (about 116 bits with a 57-character alphabet).
const GeneratedPasswordLen = 20

// GeneratePassword returns a random password of 20 characters from an
// alphabet without look-alike characters, for the one-time bootstrap
// password.
func GeneratePassword() (string, error) {
	return randomString(passwordAlphabet, GeneratedPasswordLen)
}

// randomString draws n characters uniformly from alphabet (at most 256
// characters) with crypto/rand, rejecting bytes that would bias the draw.
func randomString(alphabet string, n int) (string, error) {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/2)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("random string: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}
