package auth

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/switchyard/switchyard"
)

// phc builds an argon2id hash with the given parameters, as an older or
// foreign implementation might have stored it.
func phc(pw string, m, t uint32, p uint8, saltLen, keyLen int) string {
	salt := make([]byte, saltLen)
	for i := range salt {
		salt[i] = byte(i + 1)
	}
	key := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(keyLen))
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", m, t, p, b64.EncodeToString(salt), b64.EncodeToString(key))
}

func TestHashPasswordRoundTrip(t *testing.T) {
	for _, pw := range []string{"correct horse battery staple", "ünïcödé-pässwörd-✓", strings.Repeat("x", MaxPasswordBytes), ""} {
		h, err := HashPassword(pw)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
			t.Errorf("hash %q lacks the PHC prefix with the current parameters", h)
		}
		parts := strings.Split(h, "$")
		if salt, _ := b64.DecodeString(parts[4]); len(salt) != 16 {
			t.Errorf("salt is %d bytes, want 16", len(salt))
		}
		if key, _ := b64.DecodeString(parts[5]); len(key) != 32 {
			t.Errorf("key is %d bytes, want 32", len(key))
		}
		ok, rehash, err := VerifyPassword(h, pw)
		if !ok || rehash || err != nil {
			t.Errorf("VerifyPassword(own hash) = %v, %v, %v; want true, false, nil", ok, rehash, err)
		}
		ok, rehash, err = VerifyPassword(h, pw+"!")
		if ok || rehash || err != nil {
			t.Errorf("VerifyPassword(wrong password) = %v, %v, %v; want false, false, nil", ok, rehash, err)
		}
	}
}

func TestHashPasswordSalted(t *testing.T) {
	a, _ := HashPassword("same password twice")
	b, _ := HashPassword("same password twice")
	if a == b {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
}

func TestVerifyPasswordTampered(t *testing.T) {
	const pw = "the right password"
	h := phc(pw, argonMemory, argonTime, argonThreads, 16, 32)
	parts := strings.Split(h, "$")
	flip := func(s string) string {
		b, _ := b64.DecodeString(s)
		b[0] ^= 1
		return b64.EncodeToString(b)
	}
	tests := map[string]string{
		"key":    strings.Join(append(parts[:5:5], flip(parts[5])), "$"),
		"salt":   strings.Join([]string{"", parts[1], parts[2], parts[3], flip(parts[4]), parts[5]}, "$"),
		"time":   strings.Replace(h, "t=2", "t=3", 1),
		"memory": strings.Replace(h, "m=19456", "m=19457", 1),
	}
	for name, tampered := range tests {
		t.Run(name, func(t *testing.T) {
			ok, rehash, err := VerifyPassword(tampered, pw)
			if ok || rehash || err != nil {
				t.Errorf("VerifyPassword = %v, %v, %v; want false, false, nil", ok, rehash, err)
			}
		})
	}
}

func TestVerifyPasswordMalformed(t *testing.T) {
	good := phc("pw", 64, 1, 1, 16, 32)
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	with := func(params string) string { return "$argon2id$v=19$" + params + "$" + salt + "$" + key }
	tests := map[string]string{
		"empty":               "",
		"plain text":          "hunter2hunter2",
		"argon2i":             "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"argon2d":             "$argon2d$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"old version":         "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"no version":          "$argon2id$m=64,t=1,p=1$" + salt + "$" + key,
		"no leading dollar":   strings.TrimPrefix(good, "$"),
		"missing hash":        "$argon2id$v=19$m=64,t=1,p=1$" + salt,
		"empty hash":          "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$",
		"empty salt":          "$argon2id$v=19$m=64,t=1,p=1$$" + key,
		"extra field":         good + "$x",
		"bad salt base64":     "$argon2id$v=19$m=64,t=1,p=1$!!!!$" + key,
		"bad hash base64":     "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:len(key)-1] + "*",
		"padded base64":       "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key,
		"missing param":       with("m=64,t=1"),
		"params out of order": with("t=1,m=64,p=1"),
		"unknown param":       with("m=64,t=1,p=1,x=2"),
		"m huge":              with("m=1073741824,t=1,p=1"),
		"m over 1 GiB":        with("m=1048577,t=1,p=1"),
		"m overflows":         with("m=4294967296,t=1,p=1"),
		"m zero":              with("m=0,t=1,p=1"),
		"m below 8p":          with("m=15,t=1,p=2"),
		"m negative":          with("m=-64,t=1,p=1"),
		"m plus sign":         with("m=+64,t=1,p=1"),
		"m empty":             with("m=,t=1,p=1"),
		"m hex":               with("m=0x40,t=1,p=1"),
		"t zero":              with("m=64,t=0,p=1"),
		"t huge":              with("m=64,t=1000000,p=1"),
		"p zero":              with("m=64,t=1,p=0"),
		"p 255":               with("m=4096,t=1,p=255"),
		"p 256":               with("m=4096,t=1,p=256"),
		"short salt":          "$argon2id$v=19$m=64,t=1,p=1$" + b64.EncodeToString([]byte("1234567")) + "$" + key,
		"short key":           "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + b64.EncodeToString(make([]byte, 15)),
		"long key":            "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + b64.EncodeToString(make([]byte, 65)),
		"very long":           good + strings.Repeat("A", 10000),
		"bcrypt garbage":      "$2a$10$notreallyabcrypthash",
		"bcrypt cost 31":      strings.Replace(bcryptHash("pw", 4), "$04$", "$31$", 1),
		"bcrypt cost 17":      strings.Replace(bcryptHash("pw", 4), "$04$", "$17$", 1),
	}
	for name, h := range tests {
		t.Run(name, func(t *testing.T) {
			ok, rehash, err := VerifyPassword(h, "pw")
			if ok || rehash {
				t.Errorf("VerifyPassword = %v, %v; want false, false", ok, rehash)
			}
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("err = %v; want ErrMalformedHash", err)
			}
			if len(salt) > 0 && strings.Contains(err.Error(), salt) || strings.Contains(err.Error(), key) {
				t.Errorf("error %q contains part of the hash", err)
			}
		})
	}
	// The control: the well-formed hash parses.
	if ok, _, err := VerifyPassword(good, "pw"); !ok || err != nil {
		t.Fatalf("control hash: ok=%v err=%v", ok, err)
	}
}

func bcryptHash(pw string, cost int) string {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		panic(err)
	}
	return string(h)
}

func TestVerifyPasswordNeedsRehash(t *testing.T) {
	const pw = "an old but good password"
	tests := []struct {
		name   string
		hash   string
		rehash bool
	}{
		{"current", phc(pw, 19456, 2, 1, 16, 32), false},
		{"less memory", phc(pw, 12288, 2, 1, 16, 32), true},
		{"OWASP m=12288,t=3 still has less memory", phc(pw, 12288, 3, 1, 16, 32), true},
		{"fewer passes", phc(pw, 19456, 1, 1, 16, 32), true},
		{"short salt", phc(pw, 19456, 2, 1, 8, 32), true},
		{"short key", phc(pw, 19456, 2, 1, 16, 16), true},
		{"stronger", phc(pw, 47104, 3, 1, 16, 32), false},
		{"more lanes", phc(pw, 19456, 2, 2, 16, 32), false},
		{"bcrypt", bcryptHash(pw, bcrypt.MinCost), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := VerifyPassword(tt.hash, pw)
			if !ok || rehash != tt.rehash || err != nil {
				t.Errorf("VerifyPassword = %v, %v, %v; want true, %v, nil", ok, rehash, err, tt.rehash)
			}
			ok, rehash, err = VerifyPassword(tt.hash, "not "+pw)
			if ok || rehash || err != nil {
				t.Errorf("wrong password: VerifyPassword = %v, %v, %v; want false, false, nil", ok, rehash, err)
			}
		})
	}
}

func TestVerifyPasswordBcryptLongPassword(t *testing.T) {
	long := strings.Repeat("a", 72)
	h := bcryptHash(long, bcrypt.MinCost)
	if ok, _, _ := VerifyPassword(h, long+"anything"); ok {
		t.Error("a password longer than 72 bytes matched a bcrypt hash of its first 72")
	}
}

func TestValidatePassword(t *testing.T) {
	tests := []struct {
		pw    string
		codes []string // empty: valid
		want  string   // part of the first message
	}{
		{"", []string{"required"}, "at least 12 characters"},
		{"short", []string{"too_short"}, "at least 12 characters"},
		{"elevenchars", []string{"too_short"}, "at least 12 characters"},
		{"twelve chars", nil, ""},
		{"            ", []string{"blank"}, "other than spaces"},
		{"\t\n \u00a0\u2003      ", []string{"blank"}, "other than spaces"},
		{"ééééééééééé", []string{"too_short"}, "at least 12"}, // 11 characters, 22 bytes
		{"éééééééééééé", nil, ""},                             // 12 characters
		{strings.Repeat("p", 1024), nil, ""},
		{strings.Repeat("p", 1025), []string{"too_long"}, "at most 1024 bytes"},
		{strings.Repeat(" ", 2000), []string{"blank", "too_long"}, "other than spaces"},
	}
	for _, tt := range tests {
		name := tt.pw
		if len(name) > 20 {
			name = fmt.Sprintf("%d bytes", len(name))
		}
		t.Run(name, func(t *testing.T) {
			err := ValidatePassword(tt.pw)
			if len(tt.codes) == 0 {
				if err != nil {
					t.Fatalf("ValidatePassword = %v; want nil", err)
				}
				return
			}
			var e *switchyard.Error
			if !errors.As(err, &e) || e.Code != switchyard.EINVALID {
				t.Fatalf("ValidatePassword = %#v; want an EINVALID *switchyard.Error", err)
			}
			if len(e.Fields) != len(tt.codes) {
				t.Fatalf("fields = %+v; want codes %v", e.Fields, tt.codes)
			}
			for i, f := range e.Fields {
				if f.Field != "password" || f.Code != tt.codes[i] {
					t.Errorf("field %d = %+v; want password/%s", i, f, tt.codes[i])
				}
				if strings.TrimSpace(tt.pw) != "" && strings.Contains(f.Message, tt.pw) {
					t.Errorf("message %q echoes the password", f.Message)
				}
			}
			if !strings.Contains(e.Fields[0].Message, tt.want) {
				t.Errorf("message %q does not say %q", e.Fields[0].Message, tt.want)
			}
			if strings.TrimSpace(tt.pw) != "" && strings.Contains(err.Error(), tt.pw) {
				t.Errorf("error %q echoes the password", err)
			}
		})
	}
}

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	used := map[rune]bool{}
	for range 1000 {
		pw, err := GeneratePassword()
		if err != nil {
			t.Fatal(err)
		}
		if len(pw) != 20 {
			t.Fatalf("len(%q) = %d; want 20", pw, len(pw))
		}
		if strings.ContainsAny(pw, "0O1lI") {
			t.Fatalf("%q has a look-alike character", pw)
		}
		for _, r := range pw {
			if !strings.ContainsRune(passwordAlphabet, r) {
				t.Fatalf("%q has %q, outside the alphabet", pw, r)
			}
			used[r] = true
		}
		if err := ValidatePassword(pw); err != nil {
			t.Fatalf("generated password fails the policy: %v", err)
		}
		if seen[pw] {
			t.Fatalf("%q drawn twice", pw)
		}
		seen[pw] = true
	}
	if len(used) != len(passwordAlphabet) {
		t.Errorf("20,000 draws used %d of %d characters", len(used), len(passwordAlphabet))
	}
}

func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := HashPassword("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyPassword(b *testing.B) {
	h, _ := HashPassword("correct horse battery staple")
	for b.Loop() {
		if ok, _, _ := VerifyPassword(h, "correct horse battery staple"); !ok {
			b.Fatal("no match")
		}
	}
}
