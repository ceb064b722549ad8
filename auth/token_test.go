package auth

import (
	"net/url"
	"strings"
	"testing"
)

func isBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(base62Alphabet, rune(s[i])) {
			return false
		}
	}
	return true
}

func TestNewToken(t *testing.T) {
	for _, prefix := range []string{PrefixAPIToken, PrefixGatewayKey, PrefixSession, "", "x_", "ABCDEFGHIJKLMNOP"} {
		t.Run(prefix, func(t *testing.T) {
			seen := map[string]bool{}
			for range 2000 {
				token, hash, display, err := NewToken(prefix)
				if err != nil {
					t.Fatal(err)
				}
				body, ok := strings.CutPrefix(token, prefix)
				if !ok {
					t.Fatalf("token %q lacks prefix %q", token, prefix)
				}
				if len(body) != 43 || !isBase62(body) {
					t.Fatalf("token body %q: want 43 base62 characters", body)
				}
				if len(token) > 60 {
					t.Fatalf("token %q is %d characters; want at most 60", token, len(token))
				}
				if url.QueryEscape(token) != token || url.PathEscape(token) != token {
					t.Fatalf("token %q needs escaping in a URL", token)
				}
				if hash != HashToken(token) || len(hash) != 64 {
					t.Fatalf("hash %q is not HashToken(token)", hash)
				}
				if want := prefix + body[:4] + "…"; display != want {
					t.Fatalf("display = %q; want %q", display, want)
				}
				if seen[token] {
					t.Fatalf("token %q drawn twice", token)
				}
				seen[token] = true
			}
		})
	}
}

func TestNewTokenDisplayRevealsFourCharacters(t *testing.T) {
	token, _, display, err := NewToken(PrefixGatewayKey)
	if err != nil {
		t.Fatal(err)
	}
	shown := strings.TrimSuffix(strings.TrimPrefix(display, PrefixGatewayKey), "…")
	if len(shown) != 4 {
		t.Fatalf("display %q shows %d characters after the prefix; want 4", display, len(shown))
	}
	rest := strings.TrimPrefix(token, PrefixGatewayKey+shown)
	for i := 0; i+5 <= len(rest); i++ {
		if strings.Contains(display, rest[i:i+5]) {
			t.Fatalf("display %q contains %q from the secret part", display, rest[i:i+5])
		}
	}
}

func TestNewTokenBadPrefix(t *testing.T) {
	for _, prefix := range []string{"a b", "key:", "x/y", "ünï_", "ABCDEFGHIJKLMNOPQ", "a\n", "a.b"} {
		if tok, _, _, err := NewToken(prefix); err == nil {
			t.Errorf("NewToken(%q) = %q, nil; want an error", prefix, tok)
		}
	}
}

func TestHashToken(t *testing.T) {
	// The SHA-256 test vector for "abc" (FIPS 180-2).
	if got, want := HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("HashToken(abc) = %s; want %s", got, want)
	}
	if HashToken("syt_a") == HashToken("sys_a") {
		t.Error("the prefix is not part of the hash")
	}
}

func TestNewCSRFToken(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok, err := NewCSRFToken()
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) != 43 || !isBase62(tok) {
			t.Fatalf("CSRF token %q: want 43 base62 characters", tok)
		}
		if seen[tok] {
			t.Fatalf("%q drawn twice", tok)
		}
		seen[tok] = true
	}
}

func TestEqualTokens(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"abc", "abcd", false},
		{"abcd", "abc", false},
		{"", "", false},
		{"abc", "", false},
		{"", "abc", false},
		{"ABC", "abc", false},
	}
	for _, tt := range tests {
		if got := EqualTokens(tt.a, tt.b); got != tt.want {
			t.Errorf("EqualTokens(%q, %q) = %v; want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestEncodeBase62FixedWidth(t *testing.T) {
	zero := make([]byte, 32)
	ones := []byte(strings.Repeat("\xff", 32))
	one := make([]byte, 32)
	one[31] = 61
	tests := []struct {
		in   []byte
		want string
	}{
		{zero, strings.Repeat("0", 43)},
		{one, strings.Repeat("0", 42) + "Z"},
	}
	for _, tt := range tests {
		if got := encodeBase62(tt.in); got != tt.want {
			t.Errorf("encodeBase62(%x) = %q; want %q", tt.in, got, tt.want)
		}
	}
	if got := encodeBase62(ones); len(got) != 43 || got[0] == '0' {
		t.Errorf("encodeBase62(ff…) = %q; want 43 characters, no padding", got)
	}
}
