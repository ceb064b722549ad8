package secret_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/secret"
)

// canary is a plaintext that must never appear in an error or log line.
const canary = "sk-canary-0123456789-abcdefXYZ"

func mustMasterKey(tb testing.TB, b byte) *secret.MasterKey {
	tb.Helper()
	mk, err := secret.NewMasterKey(bytes.Repeat([]byte{b}, secret.KeySize), secret.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return mk
}

// newKeyring returns a keyring with one fresh active data key.
func newKeyring(tb testing.TB, mk *secret.MasterKey) *secret.Keyring {
	tb.Helper()
	kr := secret.NewKeyring(mk)
	addKey(tb, kr, mk, true)
	return kr
}

func addKey(tb testing.TB, kr *secret.Keyring, mk *secret.MasterKey, activate bool) string {
	tb.Helper()
	id, wrapped, err := mk.NewDataKey()
	if err != nil {
		tb.Fatal(err)
	}
	if err := kr.Add(id, wrapped); err != nil {
		tb.Fatal(err)
	}
	if activate {
		if err := kr.SetActive(id); err != nil {
			tb.Fatal(err)
		}
	}
	return id
}

func TestRoundTrip(t *testing.T) {
	kr := newKeyring(t, mustMasterKey(t, 1))
	for _, pt := range []string{"", "x", canary, strings.Repeat("long value ", 1000), "{\"private_key\":\"-----BEGIN\\n…\"}"} {
		stored, err := kr.Encrypt([]byte(pt), "providers/p1/api_key")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(stored, "enc:v1:"+kr.Active()+":") {
			t.Fatalf("stored = %q, want prefix enc:v1:%s:", stored, kr.Active())
		}
		if len(pt) >= 6 && strings.Contains(stored, pt) {
			t.Fatalf("stored value contains the plaintext")
		}
		got, err := kr.Decrypt(stored, "providers/p1/api_key")
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != pt {
			t.Fatalf("Decrypt = %q, want %q", got, pt)
		}
		kid, err := secret.KeyID(stored)
		if err != nil || kid != kr.Active() {
			t.Fatalf("KeyID = %q, %v; want %q", kid, err, kr.Active())
		}
		if !secret.IsEncrypted(stored) {
			t.Fatal("IsEncrypted = false")
		}
	}
}

func TestTamperedCiphertextFails(t *testing.T) {
	kr := newKeyring(t, mustMasterKey(t, 1))
	const aad = "providers/p1/api_key"
	stored, err := kr.Encrypt([]byte(canary), aad)
	if err != nil {
		t.Fatal(err)
	}
	prefix := "enc:v1:" + kr.Active() + ":"
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(stored, prefix))
	if err != nil {
		t.Fatal(err)
	}
	const nonceLen, tagLen = 12, 16
	parts := []struct {
		name string
		at   int
	}{
		{"nonce first byte", 0},
		{"nonce last byte", nonceLen - 1},
		{"ciphertext first byte", nonceLen},
		{"ciphertext last byte", len(raw) - tagLen - 1},
		{"tag first byte", len(raw) - tagLen},
		{"tag last byte", len(raw) - 1},
	}
	for _, p := range parts {
		t.Run(p.name, func(t *testing.T) {
			mod := bytes.Clone(raw)
			mod[p.at] ^= 0x01
			_, err := kr.Decrypt(prefix+base64.RawURLEncoding.EncodeToString(mod), aad)
			if !errors.Is(err, secret.ErrDecrypt) {
				t.Fatalf("err = %v, want ErrDecrypt", err)
			}
			if !strings.Contains(err.Error(), "does not belong to this field or was modified") {
				t.Errorf("err = %q, want it to say why", err)
			}
			assertNoLeak(t, err.Error())
		})
	}
	t.Run("truncated", func(t *testing.T) {
		_, err := kr.Decrypt(prefix+base64.RawURLEncoding.EncodeToString(raw[:len(raw)-1]), aad)
		if !errors.Is(err, secret.ErrDecrypt) {
			t.Fatalf("err = %v, want ErrDecrypt", err)
		}
	})
	t.Run("appended", func(t *testing.T) {
		_, err := kr.Decrypt(prefix+base64.RawURLEncoding.EncodeToString(append(bytes.Clone(raw), 0)), aad)
		if !errors.Is(err, secret.ErrDecrypt) {
			t.Fatalf("err = %v, want ErrDecrypt", err)
		}
	})
}

func TestWrongAADFails(t *testing.T) {
	kr := newKeyring(t, mustMasterKey(t, 1))
	stored, err := kr.Encrypt([]byte(canary), "providers/p1/api_key")
	if err != nil {
		t.Fatal(err)
	}
	for _, aad := range []string{
		"providers/p2/api_key",         // another row
		"providers/p1/client_secret",   // another field
		"credentials/p1/api_key",       // another table
		"providers/p1/api_key ",        // not a prefix match
		"providers/p1",                 // truncated
		"",                             // none
		"providers/p1/api_key/extra",   // longer
		"PROVIDERS/p1/api_key",         // case matters
		"providers/p1/api_key\x00junk", // no NUL tricks
	} {
		t.Run(fmt.Sprintf("%q", aad), func(t *testing.T) {
			_, err := kr.Decrypt(stored, aad)
			if !errors.Is(err, secret.ErrDecrypt) {
				t.Fatalf("err = %v, want ErrDecrypt", err)
			}
			assertNoLeak(t, err.Error())
		})
	}
}

func TestUnknownKeyID(t *testing.T) {
	mk := mustMasterKey(t, 1)
	stored, err := newKeyring(t, mk).Encrypt([]byte(canary), "providers/p1/api_key")
	if err != nil {
		t.Fatal(err)
	}
	other := newKeyring(t, mk) // same master key, different data key
	kid, _ := secret.KeyID(stored)
	_, err = other.Decrypt(stored, "providers/p1/api_key")
	if !errors.Is(err, secret.ErrKeyNotFound) {
		t.Fatalf("err = %v, want ErrKeyNotFound", err)
	}
	for _, want := range []string{kid, "not in the keyring", "restored without its encryption keys", "SWITCHYARD_MASTER_KEY"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %q, want it to contain %q", err, want)
		}
	}
	assertNoLeak(t, err.Error())
}

func TestNoActiveKey(t *testing.T) {
	kr := secret.NewKeyring(mustMasterKey(t, 1))
	if _, err := kr.Encrypt([]byte(canary), "providers/p1/api_key"); !errors.Is(err, secret.ErrKeyNotFound) {
		t.Fatalf("Encrypt without active key: err = %v, want ErrKeyNotFound", err)
	}
	if err := kr.SetActive("k00000000"); !errors.Is(err, secret.ErrKeyNotFound) {
		t.Fatalf("SetActive(unknown): err = %v, want ErrKeyNotFound", err)
	}
	if kr.Active() != "" || len(kr.IDs()) != 0 {
		t.Fatalf("Active = %q, IDs = %v; want empty", kr.Active(), kr.IDs())
	}
}

func TestAddWithWrongMasterKey(t *testing.T) {
	mk1, mk2 := mustMasterKey(t, 1), mustMasterKey(t, 2)
	id, wrapped, err := mk1.NewDataKey()
	if err != nil {
		t.Fatal(err)
	}
	err = secret.NewKeyring(mk2).Add(id, wrapped)
	if !errors.Is(err, secret.ErrWrongMasterKey) {
		t.Fatalf("err = %v, want ErrWrongMasterKey", err)
	}
	want := fmt.Sprintf("master key %s does not match the key that encrypted the data (%s)", mk2.ID(), mk1.ID())
	if !strings.Contains(err.Error(), want) {
		t.Errorf("err = %q, want it to contain %q", err, want)
	}
}

func TestAddRejectsBadWrappedKeys(t *testing.T) {
	mk := mustMasterKey(t, 1)
	id, wrapped, err := mk.NewDataKey()
	if err != nil {
		t.Fatal(err)
	}
	id2, wrapped2, err := mk.NewDataKey()
	if err != nil {
		t.Fatal(err)
	}
	prefix := "wk:v1:" + mk.ID() + ":"
	sealed, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(wrapped, prefix))
	if err != nil {
		t.Fatal(err)
	}
	sealed[len(sealed)-1] ^= 1
	flipLast := prefix + base64.RawURLEncoding.EncodeToString(sealed)
	tests := []struct {
		name, id, wrapped string
		want              error
	}{
		{"ok", id, wrapped, nil},
		{"wrapped for another id", id2, wrapped, secret.ErrDecrypt},
		{"id swapped", id, wrapped2, secret.ErrDecrypt},
		{"modified", id, flipLast, secret.ErrDecrypt},
		{"no prefix", id, strings.TrimPrefix(wrapped, "wk:v1:"), secret.ErrFormat},
		{"empty", id, "", secret.ErrFormat},
		{"bad base64", id, "wk:v1:" + mk.ID() + ":!!!", secret.ErrFormat},
		{"short", id, "wk:v1:" + mk.ID() + ":AAAA", secret.ErrFormat},
		{"no master key id", id, "wk:v1:", secret.ErrFormat},
		{"bad id", "k:1", wrapped, secret.ErrFormat},
		{"empty id", "", wrapped, secret.ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := secret.NewKeyring(mk).Add(tt.id, tt.wrapped)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestAddSameIDTwice(t *testing.T) {
	mk := mustMasterKey(t, 1)
	kr := secret.NewKeyring(mk)
	id, wrapped, _ := mk.NewDataKey()
	if err := kr.Add(id, wrapped); err != nil {
		t.Fatal(err)
	}
	if err := kr.Add(id, wrapped); err != nil {
		t.Fatalf("adding the same key again: %v", err)
	}
	if got := kr.IDs(); len(got) != 1 {
		t.Fatalf("IDs = %v", got)
	}
}

func TestBadFormat(t *testing.T) {
	kr := newKeyring(t, mustMasterKey(t, 1))
	kid := kr.Active()
	tests := []struct{ name, stored string }{
		{"empty", ""},
		{"plaintext", canary},
		{"other version", "enc:v2:" + kid + ":AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"no kid separator", "enc:v1:" + kid},
		{"empty kid", "enc:v1::AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"kid with uppercase", "enc:v1:K1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"kid with space", "enc:v1:k 1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"kid too long", "enc:v1:" + canary + ":AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"padded base64", "enc:v1:" + kid + ":AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="},
		{"std base64 chars", "enc:v1:" + kid + ":AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+/"},
		{"plaintext as data", "enc:v1:" + kid + ":" + canary},
		{"too short", "enc:v1:" + kid + ":AAAA"},
		{"empty data", "enc:v1:" + kid + ":"},
		{"prefix with space", " enc:v1:" + kid + ":AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kr.Decrypt(tt.stored, "providers/p1/api_key")
			if !errors.Is(err, secret.ErrFormat) {
				t.Fatalf("Decrypt: err = %v, want ErrFormat", err)
			}
			assertNoLeak(t, err.Error())
			if _, err := secret.KeyID(tt.stored); !errors.Is(err, secret.ErrFormat) {
				t.Fatalf("KeyID: err = %v, want ErrFormat", err)
			}
		})
	}
}

func TestRotation(t *testing.T) {
	mk := mustMasterKey(t, 1)
	kr := newKeyring(t, mk)
	oldID := kr.Active()
	oldStored, err := kr.Encrypt([]byte("old secret"), "providers/p1/api_key")
	if err != nil {
		t.Fatal(err)
	}
	newID := addKey(t, kr, mk, true)
	if newID == oldID || kr.Active() != newID {
		t.Fatalf("Active = %q, old %q, new %q", kr.Active(), oldID, newID)
	}
	if got, want := kr.IDs(), sorted(oldID, newID); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("IDs = %v, want %v", got, want)
	}
	got, err := kr.Decrypt(oldStored, "providers/p1/api_key")
	if err != nil || string(got) != "old secret" {
		t.Fatalf("old value after rotation: %q, %v", got, err)
	}
	newStored, err := kr.Encrypt([]byte("new secret"), "providers/p1/api_key")
	if err != nil {
		t.Fatal(err)
	}
	if kid, _ := secret.KeyID(newStored); kid != newID {
		t.Fatalf("new value has kid %q, want %q", kid, newID)
	}

	// Switching back is allowed (a rollback of a rotation).
	if err := kr.SetActive(oldID); err != nil {
		t.Fatal(err)
	}
	if stored, _ := kr.Encrypt(nil, "a/b/c"); !strings.HasPrefix(stored, "enc:v1:"+oldID+":") {
		t.Fatalf("after SetActive(old), Encrypt made %q", stored)
	}
}

func TestKeyringRebuiltFromWrappedKeys(t *testing.T) {
	// What a restart does: the database holds the wrapped keys, the master
	// key comes from the environment again.
	raw := bytes.Repeat([]byte{7}, 32)
	mk1, _ := secret.NewMasterKey(raw, secret.Options{})
	wrapped := map[string]string{}
	kr1 := secret.NewKeyring(mk1)
	var stored []string
	for i := range 3 {
		id, w, err := mk1.NewDataKey()
		if err != nil {
			t.Fatal(err)
		}
		wrapped[id] = w
		if err := kr1.Add(id, w); err != nil {
			t.Fatal(err)
		}
		if err := kr1.SetActive(id); err != nil {
			t.Fatal(err)
		}
		s, err := kr1.Encrypt([]byte(fmt.Sprint("value ", i)), fmt.Sprint("providers/p", i, "/api_key"))
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, s)
	}
	mk2, _ := secret.NewMasterKey(raw, secret.Options{})
	if mk2.ID() != mk1.ID() {
		t.Fatalf("master key id not stable: %q vs %q", mk1.ID(), mk2.ID())
	}
	kr2 := secret.NewKeyring(mk2)
	for id, w := range wrapped {
		if err := kr2.Add(id, w); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range stored {
		got, err := kr2.Decrypt(s, fmt.Sprint("providers/p", i, "/api_key"))
		if err != nil || string(got) != fmt.Sprint("value ", i) {
			t.Fatalf("value %d: %q, %v", i, got, err)
		}
	}
}

func TestNonceUniqueness(t *testing.T) {
	kr := newKeyring(t, mustMasterKey(t, 1))
	const n = 10000
	seen := make(map[string]bool, n)
	for range n {
		stored, err := kr.Encrypt([]byte("same plaintext"), "providers/p1/api_key")
		if err != nil {
			t.Fatal(err)
		}
		_, data, _ := strings.Cut(strings.TrimPrefix(stored, "enc:v1:"), ":")
		raw, err := base64.RawURLEncoding.DecodeString(data)
		if err != nil {
			t.Fatal(err)
		}
		nonce := string(raw[:12])
		if seen[nonce] {
			t.Fatalf("nonce repeated after %d encryptions", len(seen))
		}
		seen[nonce] = true
	}
}

func TestDataKeyIDsAreUnique(t *testing.T) {
	mk := mustMasterKey(t, 1)
	seen := map[string]bool{}
	for range 1000 {
		id, wrapped, err := mk.NewDataKey()
		if err != nil {
			t.Fatal(err)
		}
		if len(id) != 9 || id[0] != 'k' {
			t.Fatalf("id = %q, want k + 8 hex", id)
		}
		if !strings.HasPrefix(wrapped, "wk:v1:"+mk.ID()+":") {
			t.Fatalf("wrapped = %q", wrapped)
		}
		if seen[id] {
			t.Fatalf("id %q repeated", id)
		}
		seen[id] = true
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestNewDataKeyRandFailure(t *testing.T) {
	mk, err := secret.NewMasterKey(bytes.Repeat([]byte{1}, 32), secret.Options{Rand: failingReader{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := mk.NewDataKey(); err == nil {
		t.Fatal("NewDataKey succeeded with a failing random source")
	}
}

func TestPrintingNeverShowsKeys(t *testing.T) {
	raw := bytes.Repeat([]byte{0xAB}, 32)
	mk, err := secret.NewMasterKey(raw, secret.Options{})
	if err != nil {
		t.Fatal(err)
	}
	kr := newKeyring(t, mk)
	var logs strings.Builder
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "mk", mk, "kr", kr)
	type holder struct {
		MK *secret.MasterKey
		KR *secret.Keyring
	}
	h := holder{mk, kr}
	outputs := []string{
		fmt.Sprintf("%v %+v %#v %s %x %q", mk, mk, mk, mk, mk, mk),
		fmt.Sprintf("%v %+v %#v %s %x %q", kr, kr, kr, kr, kr, kr),
		fmt.Sprintf("%v %+v %#v", h, h, h),
		logs.String(),
	}
	keyForms := []string{
		base64.StdEncoding.EncodeToString(raw)[:12],
		base64.RawURLEncoding.EncodeToString(raw)[:12],
		fmt.Sprintf("%x", raw)[:12],
		fmt.Sprint(raw)[:12],
		"171 171 171",
	}
	for _, out := range outputs {
		for _, k := range keyForms {
			if strings.Contains(out, k) {
				t.Errorf("output %q contains key material %q", out, k)
			}
		}
	}
	if !strings.Contains(outputs[0], mk.ID()) {
		t.Errorf("printing the master key does not show its id: %q", outputs[0])
	}
}

// assertNoLeak fails if text contains any 6-character piece of the canary.
func assertNoLeak(tb testing.TB, text string) {
	tb.Helper()
	for i := 0; i+6 <= len(canary); i++ {
		if strings.Contains(text, canary[i:i+6]) {
			tb.Errorf("%q contains %q of the canary plaintext", text, canary[i:i+6])
			return
		}
	}
}

func sorted(a, b string) []string {
	if a > b {
		a, b = b, a
	}
	return []string{a, b}
}

func BenchmarkEncrypt(b *testing.B) {
	kr := newKeyring(b, mustMasterKey(b, 1))
	pt := []byte("sk-proj-0123456789abcdefghijklmnopqrstuvwxyz0123456789")
	b.ReportAllocs()
	b.SetBytes(int64(len(pt)))
	for b.Loop() {
		if _, err := kr.Encrypt(pt, "providers/p1/api_key"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecrypt(b *testing.B) {
	kr := newKeyring(b, mustMasterKey(b, 1))
	pt := []byte("sk-proj-0123456789abcdefghijklmnopqrstuvwxyz0123456789")
	stored, err := kr.Encrypt(pt, "providers/p1/api_key")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(pt)))
	for b.Loop() {
		if _, err := kr.Decrypt(stored, "providers/p1/api_key"); err != nil {
			b.Fatal(err)
		}
	}
}
