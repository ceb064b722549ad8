package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
)

// Token prefixes. A prefix tells people and secret scanners what a token is.
const (
	PrefixAPIToken   = "syt_"   // API tokens of users
	PrefixGatewayKey = "sk-sy-" // gateway keys of connections
	PrefixSession    = "sys_"   // dashboard session ids
)

const (
	tokenBytes     = 32
	tokenBodyLen   = 43 // base62 digits of a 256-bit number: ceil(256 / log2 62)
	maxPrefixLen   = 16
	displayChars   = 4
	base62Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

// NewToken makes an opaque token: prefix followed by the base62 form of 32
// random bytes, padded to 43 characters, so a token is at most 59
// characters of [A-Za-z0-9_-] and safe in URLs and headers. It returns the
// token (show it once, never store it), its hash (store this; see
// HashToken) and its display form (prefix, the first 4 characters after it
// and "…"), which tells tokens apart in lists.
//
// The prefix may be empty and may hold only letters, digits, '_' and '-',
// at most 16 of them.
func NewToken(prefix string) (token, hash, display string, err error) {
	if !validPrefix(prefix) {
		return "", "", "", fmt.Errorf("token prefix %q: want at most %d letters, digits, '_' or '-'", prefix, maxPrefixLen)
	}
	body, err := randomBase62()
	if err != nil {
		return "", "", "", err
	}
	token = prefix + body
	return token, HashToken(token), prefix + body[:displayChars] + "…", nil
}

// HashToken returns the hex SHA-256 of the whole token, the form in which
// tokens are stored and looked up.
//
// A plain hash is enough here, unlike for passwords: a token carries 256
// random bits, so there is nothing to guess and no need for a slow, salted
// hash, and a fast deterministic hash lets the token be found by an indexed
// lookup on every request.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewCSRFToken returns a random token (43 base62 characters, 256 bits) for
// the double-submit CSRF check.
func NewCSRFToken() (string, error) {
	return randomBase62()
}

// EqualTokens compares two tokens in constant time (for a given length). An
// empty token never matches, so a missing cookie and a missing header are
// not taken as equal.
func EqualTokens(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func randomBase62() (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return encodeBase62(b), nil
}

// encodeBase62 writes 32 bytes as a 256-bit number in base 62, left-padded
// with zeros to a fixed 43 characters.
func encodeBase62(b []byte) string {
	// big.Int.Text(62) uses the digits 0-9a-zA-Z, as base62Alphabet does.
	s := new(big.Int).SetBytes(b).Text(62)
	return strings.Repeat("0", tokenBodyLen-len(s)) + s
}

func validPrefix(p string) bool {
	if len(p) > maxPrefixLen {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
