package secret_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/secret"
)

func TestLoadMasterKeyFromEnv(t *testing.T) {
	raw := bytes.Repeat([]byte{0x5A}, 32)
	want, err := secret.NewMasterKey(raw, secret.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		value string
	}{
		{"standard", base64.StdEncoding.EncodeToString(raw)},
		{"standard raw", base64.RawStdEncoding.EncodeToString(raw)},
		{"url-safe", base64.URLEncoding.EncodeToString(raw)},
		{"url-safe raw", base64.RawURLEncoding.EncodeToString(raw)},
		{"surrounding space", "  " + base64.StdEncoding.EncodeToString(raw) + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			mk, generated, err := secret.LoadMasterKey(tt.value, dir)
			if err != nil {
				t.Fatal(err)
			}
			if generated {
				t.Error("generated = true for a key from the environment")
			}
			if mk.ID() != want.ID() {
				t.Errorf("ID = %q, want %q", mk.ID(), want.ID())
			}
			if _, err := os.Stat(filepath.Join(dir, "master.key")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a key file was written although the key came from the environment: %v", err)
			}
		})
	}
}

func TestLoadMasterKeyBadEnv(t *testing.T) {
	key31 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xFB}, 31))
	key33 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xFB}, 33))
	tests := []struct {
		name, value string
		wantText    []string
	}{
		{"bad base64", "not*base64*at*all*" + canary, []string{"SWITCHYARD_MASTER_KEY", "not valid base64"}},
		{"too short", key31, []string{"SWITCHYARD_MASTER_KEY", "31 bytes, want 32"}},
		{"too long", key33, []string{"SWITCHYARD_MASTER_KEY", "33 bytes, want 32"}},
		{"hex instead of base64", strings.Repeat("ab", 32), []string{"SWITCHYARD_MASTER_KEY", "48 bytes, want 32"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := secret.LoadMasterKey(tt.value, t.TempDir())
			if !errors.Is(err, secret.ErrInvalidMasterKey) {
				t.Fatalf("err = %v, want ErrInvalidMasterKey", err)
			}
			for _, w := range tt.wantText {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), strings.TrimSpace(tt.value)[:12]) {
				t.Errorf("err = %q contains the value", err)
			}
			assertNoLeak(t, err.Error())
		})
	}
}

func TestLoadMasterKeyGeneratesFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // does not exist yet
	mk1, generated, err := secret.LoadMasterKey("", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !generated {
		t.Error("generated = false on first start")
	}
	path := filepath.Join(dir, "master.key")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %04o, want 0600", fi.Mode().Perm())
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(text))); err != nil || len(raw) != 32 {
		t.Errorf("key file holds %q: not base64 of 32 bytes (%v)", text, err)
	}

	mk2, generated, err := secret.LoadMasterKey("", dir)
	if err != nil {
		t.Fatal(err)
	}
	if generated {
		t.Error("generated = true on second start")
	}
	if mk1.ID() != mk2.ID() {
		t.Errorf("second load gave key %s, first %s", mk2.ID(), mk1.ID())
	}
	// And the key is the same, not only the id: data wrapped by the first
	// load unwraps with the second.
	id, wrapped, err := mk1.NewDataKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := secret.NewKeyring(mk2).Add(id, wrapped); err != nil {
		t.Fatal(err)
	}
}

func TestLoadMasterKeyRefusesOpenFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes are not enforced on Windows")
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		t.Run(mode.String(), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "master.key")
			key, _ := secret.GenerateMasterKey()
			if err := os.WriteFile(path, []byte(key), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
			_, _, err := secret.LoadMasterKey("", dir)
			if !errors.Is(err, secret.ErrInsecureKeyFile) {
				t.Fatalf("err = %v, want ErrInsecureKeyFile", err)
			}
			if want := "chmod 600 " + path; !strings.Contains(err.Error(), want) {
				t.Errorf("err = %q, want it to say %q", err, want)
			}
			if strings.Contains(err.Error(), key[:12]) {
				t.Errorf("err contains the key")
			}
		})
	}
}

func TestLoadMasterKeyBadFile(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"empty", "", "empty"},
		{"bad base64", "%%%" + canary, "not valid base64"},
		{"short", base64.StdEncoding.EncodeToString(make([]byte, 16)), "16 bytes, want 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "master.key")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := secret.LoadMasterKey("", dir)
			if !errors.Is(err, secret.ErrInvalidMasterKey) {
				t.Fatalf("err = %v, want ErrInvalidMasterKey", err)
			}
			for _, w := range []string{path, tt.want} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want it to contain %q", err, w)
				}
			}
			assertNoLeak(t, err.Error())
			// A bad file is never replaced by a new key.
			if got, _ := os.ReadFile(path); string(got) != tt.content {
				t.Errorf("the key file was rewritten")
			}
		})
	}
}

func TestLoadMasterKeyEnvWinsOverFile(t *testing.T) {
	dir := t.TempDir()
	fileKey, _, err := secret.LoadMasterKey("", dir) // generates the file
	if err != nil {
		t.Fatal(err)
	}
	envText, _ := secret.GenerateMasterKey()
	mk, generated, err := secret.LoadMasterKey(envText, dir)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := secret.ParseMasterKey(envText, secret.Options{})
	if generated || mk.ID() != want.ID() || mk.ID() == fileKey.ID() {
		t.Fatalf("got key %s (generated %v); env key %s, file key %s", mk.ID(), generated, want.ID(), fileKey.ID())
	}
	// The env key is used even when the file is unusable.
	if err := os.Chmod(filepath.Join(dir, "master.key"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := secret.LoadMasterKey(envText, dir); err != nil {
		t.Fatalf("env key with an open key file: %v", err)
	}
}

func TestLoadMasterKeyNoDataDir(t *testing.T) {
	_, _, err := secret.LoadMasterKey("", "")
	if !errors.Is(err, secret.ErrInvalidMasterKey) || !strings.Contains(err.Error(), "SWITCHYARD_MASTER_KEY") {
		t.Fatalf("err = %v", err)
	}
}

func TestMasterKeyID(t *testing.T) {
	a := mustMasterKey(t, 1)
	b := mustMasterKey(t, 2)
	if len(a.ID()) != 8 || a.ID() == b.ID() {
		t.Fatalf("ids %q, %q: want 8 hex characters, different for different keys", a.ID(), b.ID())
	}
	if a.ID() != mustMasterKey(t, 1).ID() {
		t.Fatal("id not stable")
	}
	// The id is domain-separated: not the start of a plain SHA-256 of the key.
	plain := sha256.Sum256(bytes.Repeat([]byte{1}, 32))
	if a.ID() == hex.EncodeToString(plain[:4]) {
		t.Fatal("id is a plain hash of the key")
	}
	if _, err := secret.NewMasterKey(make([]byte, 31), secret.Options{}); !errors.Is(err, secret.ErrInvalidMasterKey) {
		t.Fatalf("31-byte key: err = %v", err)
	}
}
