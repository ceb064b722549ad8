package config_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/netguard"
	"github.com/switchyard/switchyard/secret"
)

// env returns a getenv backed by a map.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

var noEnv = env(nil)

// A valid master key and admin token whose text must never be printed.
var (
	keyCanary   = base64.StdEncoding.EncodeToString([]byte("canary-master-key-0123456789abcd"))
	tokenCanary = "tok-canary-0123456789abcdef"
)

func mustLoad(t *testing.T, args []string, getenv func(string) string) *config.Config {
	t.Helper()
	c, _, err := config.Load(args, getenv)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func TestDefaults(t *testing.T) {
	c := mustLoad(t, nil, noEnv)
	want := config.Config{
		Addr:            "127.0.0.1:8080",
		DataDir:         "./switchyard-data",
		DatabaseURL:     "sqlite://switchyard-data/switchyard.db",
		LogLevel:        slog.LevelInfo,
		LogFormat:       "text",
		ShutdownTimeout: 15 * time.Second,
		MaxBodyBytes:    1 << 20,
		DBMaxOpenConns:  10,
		BackupDir:       "switchyard-data/backups",
		BackupInterval:  24 * time.Hour,
		BackupKeep:      7,
		RetentionRaw:    7 * 24 * time.Hour,
		RetentionMinute: 2 * 24 * time.Hour,
		RetentionHour:   90 * 24 * time.Hour,
		RetentionDay:    730 * 24 * time.Hour,
		HealthChecks:    true, HealthConcurrency: 4, HealthTimeout: 10 * time.Second, HealthRetention: 168 * time.Hour, AlertInterval: 10 * time.Second, AlertAttempts: 5, AlertRetention: 90 * 24 * time.Hour,
	}
	if !reflect.DeepEqual(*c, want) {
		t.Fatalf("defaults:\n got %+v\nwant %+v", *c, want)
	}
	if c.DatabaseDialect() != "sqlite" || c.SQLitePath() != "switchyard-data/switchyard.db" {
		t.Errorf("dialect %q, path %q", c.DatabaseDialect(), c.SQLitePath())
	}
	if c.MasterKey.IsSet() || c.AdminToken.IsSet() || c.TLS() {
		t.Error("secrets or TLS set by default")
	}
}

func TestDatabaseURLDefaultFollowsDataDir(t *testing.T) {
	c := mustLoad(t, []string{"-data-dir", "/var/lib/switchyard"}, noEnv)
	if c.DatabaseURL != "sqlite:///var/lib/switchyard/switchyard.db" || c.SQLitePath() != "/var/lib/switchyard/switchyard.db" {
		t.Fatalf("DatabaseURL = %q, SQLitePath = %q", c.DatabaseURL, c.SQLitePath())
	}
}

var fullEnv = map[string]string{
	"SWITCHYARD_ADDR":               "0.0.0.0:9090",
	"SWITCHYARD_DATA_DIR":           "/data",
	"SWITCHYARD_DATABASE_URL":       "postgres://sy:pw@db:5432/switchyard?sslmode=disable",
	"SWITCHYARD_MASTER_KEY":         keyCanary,
	"SWITCHYARD_ADMIN_TOKEN":        tokenCanary,
	"SWITCHYARD_LOG_LEVEL":          "DEBUG",
	"SWITCHYARD_LOG_FORMAT":         "json",
	"SWITCHYARD_SHUTDOWN_TIMEOUT":   "1m30s",
	"SWITCHYARD_MAX_BODY_BYTES":     "2048",
	"SWITCHYARD_DB_MAX_OPEN_CONNS":  "25",
	"SWITCHYARD_TLS_CERT":           "/tls/cert.pem",
	"SWITCHYARD_TLS_KEY":            "/tls/key.pem",
	"SWITCHYARD_OUTBOUND_ALLOW":     " 10.0.0.0/8, vllm.internal:8000,,[fd00::1]:8443 ,",
	"SWITCHYARD_HEALTH_CHECKS":      "off",
	"SWITCHYARD_HEALTH_CONCURRENCY": "8",
	"SWITCHYARD_HEALTH_TIMEOUT":     "30s",
	"SWITCHYARD_HEALTH_RETENTION":   "30d",
}

func TestEnvironment(t *testing.T) {
	c := mustLoad(t, nil, env(fullEnv))
	want := config.Config{
		Addr:              "0.0.0.0:9090",
		DataDir:           "/data",
		DatabaseURL:       "postgres://sy:pw@db:5432/switchyard?sslmode=disable",
		MasterKey:         config.NewSecret(keyCanary),
		AdminToken:        config.NewSecret(tokenCanary),
		LogLevel:          slog.LevelDebug,
		LogFormat:         "json",
		ShutdownTimeout:   90 * time.Second,
		MaxBodyBytes:      2048,
		DBMaxOpenConns:    25,
		TLSCert:           "/tls/cert.pem",
		TLSKey:            "/tls/key.pem",
		OutboundAllow:     []string{"10.0.0.0/8", "vllm.internal:8000", "[fd00::1]:8443"},
		BackupDir:         "/data/backups",
		BackupInterval:    24 * time.Hour,
		BackupKeep:        7,
		RetentionRaw:      7 * 24 * time.Hour,
		RetentionMinute:   2 * 24 * time.Hour,
		RetentionHour:     90 * 24 * time.Hour,
		RetentionDay:      730 * 24 * time.Hour,
		HealthConcurrency: 8, HealthTimeout: 30 * time.Second, HealthRetention: 720 * time.Hour, AlertInterval: 10 * time.Second, AlertAttempts: 5, AlertRetention: 90 * 24 * time.Hour,
	}
	if !reflect.DeepEqual(*c, want) {
		t.Fatalf("from environment:\n got %s\nwant %s", c, &want)
	}
	if c.DatabaseDialect() != "postgres" || c.SQLitePath() != "" || !c.TLS() {
		t.Errorf("dialect %q, SQLitePath %q, TLS %v", c.DatabaseDialect(), c.SQLitePath(), c.TLS())
	}
	if c.MasterKey.Reveal() != keyCanary || c.AdminToken.Reveal() != tokenCanary {
		t.Error("secrets not revealed as given")
	}
}

func TestFlagsOverrideEnvironment(t *testing.T) {
	args := []string{
		"-addr", "127.0.0.1:7000",
		"-data-dir=/other",
		"--database-url", "sqlite:///tmp/x.db",
		"-log-level", "warn",
		"-log-format", "text",
		"-shutdown-timeout", "5s",
		"-max-body-bytes", "4096",
		"-db-max-open-conns", "3",
		"-tls-cert", "/a.pem",
		"-tls-key", "/b.pem",
		"-outbound-allow", "*.corp.example",
		"extra", "-not-a-flag",
	}
	c, rest, err := config.Load(args, env(fullEnv))
	if err != nil {
		t.Fatal(err)
	}
	got := []any{c.Addr, c.DataDir, c.DatabaseURL, c.LogLevel, c.LogFormat, c.ShutdownTimeout, c.MaxBodyBytes, c.DBMaxOpenConns, c.TLSCert, c.TLSKey, c.OutboundAllow}
	want := []any{"127.0.0.1:7000", "/other", "sqlite:///tmp/x.db", slog.LevelWarn, "text", 5 * time.Second, int64(4096), 3, "/a.pem", "/b.pem", []string{"*.corp.example"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	if !slices.Equal(rest, []string{"extra", "-not-a-flag"}) {
		t.Errorf("remaining args = %q", rest)
	}
	// A flag that is not given leaves the environment value in force.
	c = mustLoad(t, []string{"-addr", ":1"}, env(fullEnv))
	if c.LogFormat != "json" || c.Addr != ":1" {
		t.Errorf("LogFormat = %q, Addr = %q", c.LogFormat, c.Addr)
	}
}

func TestSecretsHaveNoFlag(t *testing.T) {
	for _, f := range []string{"-master-key", "-admin-token"} {
		_, _, err := config.Load([]string{f, "x"}, noEnv)
		if err == nil || !strings.Contains(err.Error(), "flag provided but not defined") {
			t.Errorf("%s: err = %v, want an unknown-flag error", f, err)
		}
	}
	for _, s := range config.Settings() {
		if s.Secret && s.Flag != "" {
			t.Errorf("secret setting %s has flag -%s", s.Env, s.Flag)
		}
	}
}

func TestHelpAndUnknownFlags(t *testing.T) {
	for _, h := range []string{"-h", "-help", "--help"} {
		if _, _, err := config.Load([]string{h}, noEnv); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%s: err = %v, want flag.ErrHelp", h, err)
		}
	}
	_, _, err := config.Load([]string{"-nope"}, noEnv)
	if err == nil || !strings.Contains(err.Error(), "-nope") || !strings.Contains(err.Error(), "-h") {
		t.Errorf("unknown flag: err = %v", err)
	}
	if _, _, err := config.Load([]string{"-addr"}, noEnv); err == nil {
		t.Error("flag without a value accepted")
	}
}

func TestValidValues(t *testing.T) {
	tests := []struct {
		env, value string
	}{
		{"SWITCHYARD_ADDR", ":8080"},
		{"SWITCHYARD_ADDR", "[::1]:8080"},
		{"SWITCHYARD_ADDR", "localhost:0"},
		{"SWITCHYARD_DATABASE_URL", "sqlite:///abs/path.db"},
		{"SWITCHYARD_DATABASE_URL", "sqlite://relative/path.db"},
		{"SWITCHYARD_DATABASE_URL", "sqlite::memory:"},
		{"SWITCHYARD_DATABASE_URL", "postgres://u:p@h:5432/db"},
		{"SWITCHYARD_DATABASE_URL", "postgresql://h/db?sslmode=require"},
		{"SWITCHYARD_DATABASE_URL", "postgres:///db?host=/var/run/postgresql"},
		{"SWITCHYARD_MASTER_KEY", base64.RawURLEncoding.EncodeToString(make([]byte, 32))},
		{"SWITCHYARD_MASTER_KEY", base64.RawStdEncoding.EncodeToString(make([]byte, 32))},
		{"SWITCHYARD_LOG_LEVEL", "Error"},
		{"SWITCHYARD_LOG_FORMAT", "JSON"},
		{"SWITCHYARD_SHUTDOWN_TIMEOUT", "10m"},
		{"SWITCHYARD_BACKUP_INTERVAL", "0"},
		{"SWITCHYARD_BACKUP_INTERVAL", "6h"},
		{"SWITCHYARD_BACKUP_KEEP", "30"},
		{"SWITCHYARD_SHUTDOWN_TIMEOUT", "1ns"},
		{"SWITCHYARD_MAX_BODY_BYTES", "1024"},
		{"SWITCHYARD_MAX_BODY_BYTES", "1073741824"},
		{"SWITCHYARD_DB_MAX_OPEN_CONNS", "1"},
		{"SWITCHYARD_OUTBOUND_ALLOW", "127.0.0.1/32"},
		{"SWITCHYARD_OUTBOUND_ALLOW", "10.1.2.3:8000,[fd00::1]:8443,fd00::/8,vllm.internal,*.corp.example:443"},
		{"SWITCHYARD_OUTBOUND_ALLOW", " , "},
	}
	for _, tt := range tests {
		t.Run(tt.env+"="+tt.value, func(t *testing.T) {
			if _, _, err := config.Load(nil, env(map[string]string{tt.env: tt.value})); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestDatabaseDialect(t *testing.T) {
	tests := []struct{ url, dialect, path string }{
		{"sqlite:///abs/path.db", "sqlite", "/abs/path.db"},
		{"sqlite://relative/path.db", "sqlite", "relative/path.db"},
		{"sqlite::memory:", "sqlite", ":memory:"},
		{"postgres://h/db", "postgres", ""},
		{"postgresql://h/db", "postgres", ""},
	}
	for _, tt := range tests {
		c := mustLoad(t, []string{"-database-url", tt.url}, noEnv)
		if c.DatabaseDialect() != tt.dialect || c.SQLitePath() != tt.path {
			t.Errorf("%s: dialect %q, path %q; want %q, %q", tt.url, c.DatabaseDialect(), c.SQLitePath(), tt.dialect, tt.path)
		}
	}
}

func TestBadValues(t *testing.T) {
	tests := []struct {
		env, value string
		want       string // part of what the message says is accepted
	}{
		{"SWITCHYARD_ADDR", "localhost", "is not host:port; use e.g. 127.0.0.1:8080"},
		{"SWITCHYARD_ADDR", "127.0.0.1:http", "port that is not a number"},
		{"SWITCHYARD_ADDR", "127.0.0.1:70000", "port that is not a number"},
		{"SWITCHYARD_ADDR", "http://127.0.0.1:8080", "is not host:port"},
		{"SWITCHYARD_DATA_DIR", " ", "is empty"},
		{"SWITCHYARD_DATABASE_URL", "mysql://h/db", "is not a database URL; use sqlite:///"},
		{"SWITCHYARD_DATABASE_URL", "switchyard.db", "is not a database URL"},
		{"SWITCHYARD_DATABASE_URL", "sqlite:/abs.db", "is not a SQLite URL"},
		{"SWITCHYARD_DATABASE_URL", "sqlite://", "has no file path"},
		{"SWITCHYARD_DATABASE_URL", "sqlite:///x.db?_pragma=foo", "query parameters"},
		{"SWITCHYARD_DATABASE_URL", "postgres://h:port/db", "is not a valid URL"},
		{"SWITCHYARD_LOG_LEVEL", "verbose", "use debug, info, warn or error"},
		{"SWITCHYARD_LOG_FORMAT", "xml", "use text or json"},
		{"SWITCHYARD_SHUTDOWN_TIMEOUT", "15", "has no unit"},
		{"SWITCHYARD_BACKUP_INTERVAL", "30s", "at least 1m"},
		{"SWITCHYARD_BACKUP_INTERVAL", "daily", "or 0 for none"},
		{"SWITCHYARD_BACKUP_KEEP", "0", "from 1 to 1000"},
		{"SWITCHYARD_SHUTDOWN_TIMEOUT", "soon", "is not a duration"},
		{"SWITCHYARD_SHUTDOWN_TIMEOUT", "0s", "more than 0 and at most 10m"},
		{"SWITCHYARD_SHUTDOWN_TIMEOUT", "-1s", "more than 0 and at most 10m"},
		{"SWITCHYARD_SHUTDOWN_TIMEOUT", "11m", "more than 0 and at most 10m"},
		{"SWITCHYARD_MAX_BODY_BYTES", "1023", "from 1024 (1 KiB) to 1073741824 (1 GiB)"},
		{"SWITCHYARD_MAX_BODY_BYTES", "1073741825", "from 1024"},
		{"SWITCHYARD_MAX_BODY_BYTES", "1MiB", "whole number of bytes"},
		{"SWITCHYARD_DB_MAX_OPEN_CONNS", "0", "from 1 to 1000"},
		{"SWITCHYARD_HEALTH_CHECKS", "sometimes", "is not on or off"},
		{"SWITCHYARD_HEALTH_CONCURRENCY", "0", "from 1 to 64"},
		{"SWITCHYARD_HEALTH_TIMEOUT", "10", "has no unit"},
		{"SWITCHYARD_HEALTH_TIMEOUT", "10m", "from 1s to 5m"},
		{"SWITCHYARD_HEALTH_RETENTION", "30m", "use at least 1h"},
		{"SWITCHYARD_DB_MAX_OPEN_CONNS", "many", "from 1 to 1000"},
		{"SWITCHYARD_OUTBOUND_ALLOW", "10.0.0.0/8,10.1.2.3/8", `has an entry, "10.1.2.3/8", that has bits set after the prefix length; did you mean 10.0.0.0/8?; use a CIDR`},
		{"SWITCHYARD_OUTBOUND_ALLOW", "https://vllm.internal", "is a URL"},
		{"SWITCHYARD_OUTBOUND_ALLOW", "vllm.internal:0", "port that is not a number from 1 to 65535"},
		{"SWITCHYARD_OUTBOUND_ALLOW", "2130706433", "cannot end in a number"},
		{"SWITCHYARD_OUTBOUND_ALLOW", "vllm internal", "is not a host name; use a CIDR (10.0.0.0/8, fd00::/8)"},
	}
	flags := map[string]string{}
	for _, s := range config.Settings() {
		flags[s.Env] = s.Flag
	}
	for _, tt := range tests {
		for _, via := range []string{"env", "flag"} {
			t.Run(via+"/"+tt.env+"="+tt.value, func(t *testing.T) {
				var err error
				if via == "env" {
					_, _, err = config.Load(nil, env(map[string]string{tt.env: tt.value}))
				} else {
					_, _, err = config.Load([]string{"-" + flags[tt.env], tt.value}, noEnv)
				}
				p := oneProblem(t, err)
				if p.Env != tt.env || p.Flag != flags[tt.env] {
					t.Errorf("problem names %s/-%s, want %s/-%s", p.Env, p.Flag, tt.env, flags[tt.env])
				}
				prefix := fmt.Sprintf("%s (-%s): %q ", tt.env, flags[tt.env], tt.value)
				if !strings.HasPrefix(p.Message, prefix) {
					t.Errorf("message %q does not start with %q", p.Message, prefix)
				}
				if !strings.Contains(p.Message, tt.want) {
					t.Errorf("message %q does not say %q", p.Message, tt.want)
				}
			})
		}
	}
}

func TestBadSecretsAreNeverShown(t *testing.T) {
	short := base64.StdEncoding.EncodeToString([]byte("canary-master-key-short"))
	tests := []struct {
		env, value, want string
	}{
		{"SWITCHYARD_MASTER_KEY", short, "decodes to 23 bytes, want 32"},
		{"SWITCHYARD_MASTER_KEY", "canary*master*key*not*base64", "is not valid base64"},
		{"SWITCHYARD_MASTER_KEY", base64.StdEncoding.EncodeToString([]byte("canary-master-key-0123456789abcdcanary-master-key-0123456789abcd")), "decodes to 64 bytes"},
		{"SWITCHYARD_ADMIN_TOKEN", "tok-canary", "at least 16 characters"},
		{"SWITCHYARD_ADMIN_TOKEN", "tok canary 0123456789", "without spaces"},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			_, _, err := config.Load(nil, env(map[string]string{tt.env: tt.value}))
			p := oneProblem(t, err)
			if want := tt.env + ": (value hidden) "; !strings.HasPrefix(p.Message, want) {
				t.Errorf("message %q does not start with %q", p.Message, want)
			}
			if !strings.Contains(p.Message, tt.want) {
				t.Errorf("message %q does not say %q", p.Message, tt.want)
			}
			assertNoSubstring(t, err.Error(), tt.value)
			assertNoSubstring(t, err.Error(), "canary")
		})
	}
}

func TestDatabasePasswordNeverShown(t *testing.T) {
	tests := []string{
		"postgres://user:hunter2secret@h:bad/db",       // does not parse
		"postgres://user:hunter2secret@h/db?x=%zz",     // parses; accepted, so no problem
		"mysql://user:hunter2secret@h/db",              // wrong scheme
		"postgres://h/db?password=hunter2secret&x=%zz", // password in the query
	}
	for _, u := range tests {
		_, _, err := config.Load([]string{"-database-url", u, "-addr", "bad"}, noEnv)
		if err == nil {
			t.Fatalf("%s: no error", u)
		}
		assertNoSubstring(t, err.Error(), "hunter2secret")
	}
	_, _, err := config.Load([]string{"-database-url", "postgres://user:hunter2secret@h:bad/db"}, noEnv)
	if p := oneProblem(t, err); !strings.Contains(p.Message, "(value hidden: it may contain a password) is not a valid URL") {
		t.Errorf("message = %q", p.Message)
	}
	_, _, err = config.Load([]string{"-database-url", "mysql://user:hunter2secret@h/db"}, noEnv)
	if p := oneProblem(t, err); !strings.Contains(p.Message, `"mysql://user:xxxxx@h/db" is not a database URL`) {
		t.Errorf("message = %q", p.Message)
	}
	c := mustLoad(t, nil, env(map[string]string{"SWITCHYARD_DATABASE_URL": "postgres://u:hunter2secret@h/db?sslpassword=hunter2secret&sslmode=require"}))
	assertNoSubstring(t, c.String(), "hunter2secret")
	if !strings.Contains(c.String(), "database_url=postgres://u:xxxxx@h/db?") {
		t.Errorf("String() = %s, want the redacted URL", c)
	}
}

func TestSeveralProblemsReportedTogether(t *testing.T) {
	_, _, err := config.Load(
		[]string{"-addr", "nope", "-log-level", "loud"},
		env(map[string]string{
			"SWITCHYARD_MASTER_KEY":       "short",
			"SWITCHYARD_SHUTDOWN_TIMEOUT": "forever",
			"SWITCHYARD_TLS_CERT":         "/cert.pem",
			"SWITCHYARD_LOG_LEVEL":        "debug", // overridden by the bad flag
		}))
	var cerr *config.Error
	if !errors.As(err, &cerr) {
		t.Fatalf("err = %v (%T), want *config.Error", err, err)
	}
	var got []string
	for _, p := range cerr.Problems {
		got = append(got, p.Env)
	}
	want := []string{"SWITCHYARD_ADDR", "SWITCHYARD_MASTER_KEY", "SWITCHYARD_LOG_LEVEL", "SWITCHYARD_SHUTDOWN_TIMEOUT", "SWITCHYARD_TLS_KEY"}
	if !slices.Equal(got, want) {
		t.Fatalf("problems for %v, want %v\n%v", got, want, err)
	}
	if lines := strings.Split(err.Error(), "\n"); len(lines) != len(want) {
		t.Errorf("Error() has %d lines, want %d:\n%s", len(lines), len(want), err)
	}
	if !strings.Contains(err.Error(), "SWITCHYARD_TLS_KEY (-tls-key): not set, but SWITCHYARD_TLS_CERT (-tls-cert) is") {
		t.Errorf("TLS problem not explained:\n%s", err)
	}
}

func TestTLSBothOrNeither(t *testing.T) {
	for _, tt := range []struct {
		cert, key string
		ok        bool
	}{
		{"", "", true},
		{"c.pem", "k.pem", true},
		{"c.pem", "", false},
		{"", "k.pem", false},
	} {
		_, _, err := config.Load(nil, env(map[string]string{"SWITCHYARD_TLS_CERT": tt.cert, "SWITCHYARD_TLS_KEY": tt.key}))
		if (err == nil) != tt.ok {
			t.Errorf("cert %q key %q: err = %v", tt.cert, tt.key, err)
		}
	}
}

func TestPrintingMasksSecrets(t *testing.T) {
	c := mustLoad(t, nil, env(fullEnv))
	var logs strings.Builder
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "config", c)
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"String": c.String(),
		"%v":     fmt.Sprintf("%v", c),
		"%+v":    fmt.Sprintf("%+v", *c),
		"%#v":    fmt.Sprintf("%#v", *c),
		"slog":   logs.String(),
		"json":   string(js),
	}
	for name, out := range outputs {
		assertNoSubstring(t, out, keyCanary)
		assertNoSubstring(t, out, tokenCanary)
		if name != "json" {
			assertNoSubstring(t, out, ":pw@") // the database password
		}
	}
	for _, want := range []string{"addr=0.0.0.0:9090", "master_key=(set, hidden)", "admin_token=(set, hidden)", "log_level=debug"} {
		if !strings.Contains(c.String(), want) {
			t.Errorf("String() = %s, want %q", c, want)
		}
	}
}

func TestSettingsTable(t *testing.T) {
	settings := config.Settings()
	byName := map[string]config.Setting{}
	for _, s := range settings {
		if s.Name == "" || s.Help == "" || !strings.HasPrefix(s.Env, "SWITCHYARD_") {
			t.Errorf("incomplete setting %+v", s)
		}
		if _, dup := byName[s.Name]; dup {
			t.Errorf("setting %s described twice", s.Name)
		}
		byName[s.Name] = s
	}
	// Every Config field is a setting, so that Reference documents it.
	ct := reflect.TypeFor[config.Config]()
	for i := range ct.NumField() {
		if _, ok := byName[ct.Field(i).Name]; !ok {
			t.Errorf("Config.%s has no entry in Settings()", ct.Field(i).Name)
		}
	}
	// Settings returns a copy.
	settings[0].Env = "CHANGED"
	if config.Settings()[0].Env == "CHANGED" {
		t.Error("Settings() exposes the table itself")
	}
}

func TestReference(t *testing.T) {
	ref := config.Reference()
	if ref != config.Reference() {
		t.Fatal("Reference() is not deterministic")
	}
	if !strings.HasPrefix(ref, "| Environment variable | Flag | Default | Meaning |\n|---|---|---|---|\n") {
		t.Errorf("Reference() does not start with the table header:\n%s", ref)
	}
	usage := config.Usage()
	for _, s := range config.Settings() {
		if !strings.Contains(ref, "`"+s.Env+"`") || !strings.Contains(usage, s.Env) {
			t.Errorf("%s missing from Reference() or Usage()", s.Env)
		}
		if s.Flag != "" && (!strings.Contains(ref, "`-"+s.Flag+"`") || !strings.Contains(usage, "-"+s.Flag)) {
			t.Errorf("-%s missing from Reference() or Usage()", s.Flag)
		}
	}
	rows := strings.Count(ref, "\n| `SWITCHYARD_")
	if rows != len(config.Settings()) {
		t.Errorf("Reference() has %d rows, want %d", rows, len(config.Settings()))
	}
}

func oneProblem(t *testing.T, err error) config.Problem {
	t.Helper()
	var cerr *config.Error
	if !errors.As(err, &cerr) {
		t.Fatalf("err = %v (%T), want *config.Error", err, err)
	}
	if len(cerr.Problems) != 1 {
		t.Fatalf("%d problems, want 1:\n%v", len(cerr.Problems), err)
	}
	if cerr.Error() != cerr.Problems[0].Message {
		t.Errorf("Error() = %q, want the message %q", cerr.Error(), cerr.Problems[0].Message)
	}
	return cerr.Problems[0]
}

// assertNoSubstring fails if text contains any 8-character piece of secret.
func assertNoSubstring(t *testing.T, text, secret string) {
	t.Helper()
	const n = 8
	if len(secret) < n {
		if strings.Contains(text, secret) {
			t.Errorf("%q contains %q", text, secret)
		}
		return
	}
	for i := 0; i+n <= len(secret); i++ {
		if strings.Contains(text, secret[i:i+n]) {
			t.Errorf("%q contains %q, part of a secret", text, secret[i:i+n])
			return
		}
	}
}

// config checks the master key itself, to report it with the other settings;
// it must accept exactly what the secret package accepts.
func TestMasterKeyCheckMatchesSecretPackage(t *testing.T) {
	raw := []byte("0123456789abcdef0123456789abcdef\xfb\xff")
	inputs := []string{
		base64.StdEncoding.EncodeToString(raw[:32]),
		base64.RawStdEncoding.EncodeToString(raw[:32]),
		base64.URLEncoding.EncodeToString(raw[:32]),
		base64.RawURLEncoding.EncodeToString(raw[:32]),
		base64.StdEncoding.EncodeToString(raw[2:34]),
		base64.RawURLEncoding.EncodeToString(raw[2:34]),
		" " + base64.StdEncoding.EncodeToString(raw[:32]) + "\n",
		base64.StdEncoding.EncodeToString(raw[:31]),
		base64.StdEncoding.EncodeToString(raw[:33]),
		base64.StdEncoding.EncodeToString(raw[:32])[:43] + "!",
		strings.Repeat("ab", 32),
		"short",
	}
	for _, in := range inputs {
		_, _, cerr := config.Load(nil, env(map[string]string{"SWITCHYARD_MASTER_KEY": in}))
		_, serr := secret.ParseMasterKey(in, secret.Options{})
		if (cerr == nil) != (serr == nil) {
			t.Errorf("%q: config says %v, secret says %v", in, cerr, serr)
		}
	}
}

func TestNilGetenv(t *testing.T) {
	if c := mustLoad(t, nil, nil); c.Addr != "127.0.0.1:8080" {
		t.Fatalf("Addr = %q", c.Addr)
	}
}

// config checks the outbound allowlist itself, to report it with the other
// settings; it must accept exactly the entries netguard.NewPolicy accepts.
func TestOutboundAllowCheckMatchesNetguard(t *testing.T) {
	entries := []string{
		"10.0.0.0/8", "fd00::/8", "10.1.2.3", "fd00::1", "10.1.2.3:8000", "[fd00::1]:8443", "[fd00::/8]:8443",
		"10.0.0.0/8:8000", "vllm.internal", "vllm.internal:8000", "*.corp.example", "*.corp.example:443",
		"localhost", "Ollama.Local.", "::ffff:10.0.0.1", "my_host.internal", "0.0.0.0/0", "::/0", "[::1]", "[::1]:1",
		"10.0.0.0/33", "10.1.2.3/8", "10.1.2.3:0", "10.1.2.3:65536", "10.1.2.3:", "10.1.2.3:+80", "vllm.internal:http",
		"[fd00::1", "[fd00::1]8443", "[fd00::1]:", "[10.0.0.1]:80", "[vllm.internal]", "fd00::zz", "https://vllm.internal",
		"vllm internal", "*.", "*", "a.*.example", "-bad.example", "bad-.example", "a..b", "127.1", "2130706433",
		"0x7f000001", "0X7F000001", "host.0x1f", "host.1a", "fe80::1%eth0", "[fe80::1%eth0]:80", "::ffff:10.0.0.0/104",
		"10.0.0.0/8/8", strings.Repeat("a", 64) + ".example", "ünicode.example", "host:80:80",
	}
	for _, e := range entries {
		_, _, cerr := config.Load([]string{"-outbound-allow", e}, noEnv)
		_, nerr := netguard.NewPolicy([]string{e})
		if (cerr == nil) != (nerr == nil) {
			t.Errorf("%q: config says %v, netguard says %v", e, cerr, nerr)
		}
	}
}

func TestRetentionSettings(t *testing.T) {
	c := mustLoad(t, []string{"-retention-raw", "36h", "-retention-hour", "30d"}, env(map[string]string{"SWITCHYARD_RETENTION_DAY": "3650d"}))
	if c.RetentionRaw != 36*time.Hour || c.RetentionHour != 30*24*time.Hour || c.RetentionDay != 3650*24*time.Hour || c.RetentionMinute != 48*time.Hour {
		t.Fatalf("retention = %v %v %v %v", c.RetentionRaw, c.RetentionMinute, c.RetentionHour, c.RetentionDay)
	}
	_, _, err := config.Load([]string{"-retention-minute", "1h", "-retention-raw", "a week"}, noEnv)
	var cerr *config.Error
	if !errors.As(err, &cerr) || len(cerr.Problems) != 2 {
		t.Fatalf("err = %v", err)
	}
	for i, want := range []string{"SWITCHYARD_RETENTION_RAW (-retention-raw): \"a week\" is not a duration",
		"SWITCHYARD_RETENTION_MINUTE (-retention-minute): \"1h\" is too short; use at least 3h"} {
		if !strings.HasPrefix(cerr.Problems[i].Message, want) {
			t.Errorf("problem %d = %q, want %q…", i, cerr.Problems[i].Message, want)
		}
	}
}
