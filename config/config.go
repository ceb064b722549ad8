// Package config reads Switchyard's settings from command-line flags and
// SWITCHYARD_* environment variables. Flags override the environment, which
// overrides the defaults. Every setting is described once, in the table that
// Settings returns; loading, validation, printing and the reference
// documentation are all driven by it.
//
// A Config is passed down from main; there is no global configuration.
// Secret settings (the master key, the admin token) have no flag, since argv
// is visible to other users of the machine, and are never printed.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Config holds every setting. Load fills it; the zero value is not usable.
type Config struct {
	Addr            string        // listen address, host:port
	DataDir         string        // directory for the SQLite database and master.key
	DatabaseURL     string        // sqlite:///abs.db, sqlite://rel.db, sqlite::memory:, postgres://…
	MasterKey       Secret        // base64 of 32 bytes; empty means use or create <DataDir>/master.key
	AdminToken      Secret        // bootstrap admin API token; empty means none
	LogLevel        slog.Level    // debug, info, warn or error
	LogFormat       string        // "text" or "json"
	ShutdownTimeout time.Duration // how long a graceful shutdown waits
	MaxBodyBytes    int64         // largest request body accepted
	DBMaxOpenConns  int           // PostgreSQL pool size; SQLite ignores it
	TLSCert         string        // PEM certificate file; set with TLSKey or not at all
	TLSKey          string        // PEM private key file
	OutboundAllow   []string      // allowlist entries for outbound calls (netguard.NewPolicy parses them)
	BackupDir       string        // where backups are written
	BackupInterval  time.Duration // how often a scheduled backup is taken; 0 for none
	BackupKeep      int           // backups of each kind kept
	RetentionRaw    time.Duration // how long raw usage events are kept (once rolled up)
	RetentionMinute time.Duration // how long per-minute usage rollups are kept
	RetentionHour   time.Duration // how long hourly usage rollups are kept
	RetentionDay    time.Duration // how long daily usage rollups are kept

	HealthChecks      bool          // run scheduled health checks
	HealthConcurrency int           // health checks running at once
	HealthTimeout     time.Duration // bound on one health check
	HealthRetention   time.Duration // how long checks and status changes are kept
	AlertInterval     time.Duration // how often alert rules are evaluated
	AlertAttempts     int           // tries of one alert delivery
	AlertRetention    time.Duration // how long resolved alerts are kept
}

// Error lists every bad setting found by Load.
type Error struct {
	Problems []Problem
}

// Problem is one bad setting. Message is a complete line that names the
// setting, shows the bad value (unless the setting is secret) and says what
// is accepted.
type Problem struct {
	Env     string // the environment variable, such as SWITCHYARD_ADDR
	Flag    string // the flag name without '-', or "" when it has none
	Message string
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Message
	}
	return strings.Join(lines, "\n")
}

// Load reads the settings: from args (flags, without the program or
// subcommand name), then from getenv for those not given as flags, then the
// defaults. It returns the arguments left after the flags.
//
// An empty environment variable counts as unset; a nil getenv means an empty
// environment. -h and -help return an error
// that wraps flag.ErrHelp; print Usage then. Bad values are all reported
// together in an *Error.
func Load(args []string, getenv func(string) string) (*Config, []string, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	table := settings()
	fs := flag.NewFlagSet("switchyard", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fromFlag := map[string]string{}
	for _, s := range table {
		if s.Flag == "" {
			continue
		}
		fs.Func(s.Flag, s.Help, func(v string) error {
			fromFlag[s.Flag] = v
			return nil
		})
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("%w; run with -h to list the flags", err)
	}

	c := &Config{}
	var problems []Problem
	for _, s := range table {
		v, ok := fromFlag[s.Flag]
		if !ok { // not given as a flag (secrets never are)
			v = getenv(s.Env)
			ok = v != ""
		}
		if !ok {
			v = s.defaultValue(c)
		}
		if err := s.set(c, v); err != nil {
			shown := "(value hidden)"
			if !s.Secret {
				shown = strconv.Quote(v)
				if s.show != nil {
					shown = s.show(v)
				}
			}
			problems = append(problems, Problem{
				Env:     s.Env,
				Flag:    s.Flag,
				Message: fmt.Sprintf("%s: %s %s", s.label(), shown, err),
			})
		}
	}
	problems = append(problems, crossCheck(c)...)
	if len(problems) > 0 {
		return nil, nil, &Error{Problems: problems}
	}
	return c, fs.Args(), nil
}

// crossCheck validates rules that involve more than one setting.
func crossCheck(c *Config) []Problem {
	var problems []Problem
	if (c.TLSCert == "") != (c.TLSKey == "") {
		cert, key := lookup("TLSCert"), lookup("TLSKey")
		set, unset := cert, key
		if c.TLSCert == "" {
			set, unset = key, cert
		}
		problems = append(problems, Problem{
			Env:  unset.Env,
			Flag: unset.Flag,
			Message: fmt.Sprintf("%s: not set, but %s is; set both to serve HTTPS, or neither for plain HTTP",
				unset.label(), set.label()),
		})
	}
	return problems
}

func lookup(name string) Setting {
	for _, s := range settings() {
		if s.Name == name {
			return s
		}
	}
	panic("config: no setting " + name)
}

// DatabaseDialect returns "sqlite" or "postgres".
func (c *Config) DatabaseDialect() string {
	if isSQLite(c.DatabaseURL) {
		return "sqlite"
	}
	return "postgres"
}

// SQLitePath returns the database file of a sqlite URL (":memory:" for
// sqlite::memory:), or "" for PostgreSQL.
func (c *Config) SQLitePath() string {
	if c.DatabaseURL == sqliteMemory {
		return ":memory:"
	}
	path, ok := strings.CutPrefix(c.DatabaseURL, sqlitePrefix)
	if !ok {
		return ""
	}
	return path
}

// TLS reports whether the server should serve HTTPS.
func (c *Config) TLS() bool { return c.TLSCert != "" }

// String lists the settings with secrets masked and the database password
// redacted, for a startup log line.
func (c Config) String() string {
	var b strings.Builder
	for i, s := range settings() {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%s", s.key(), s.get(&c))
	}
	return b.String()
}

// GoString is String, so that %#v masks secrets too.
func (c Config) GoString() string { return c.String() }

// LogValue is the structured form of String.
func (c Config) LogValue() slog.Value {
	table := settings()
	attrs := make([]slog.Attr, len(table))
	for i, s := range table {
		attrs[i] = slog.String(s.key(), s.get(&c))
	}
	return slog.GroupValue(attrs...)
}

// Secret is a setting value that is never printed. Reveal returns it.
type Secret struct {
	value string
}

// NewSecret wraps a value.
func NewSecret(v string) Secret { return Secret{value: v} }

// Reveal returns the value. Call it only where the value is used.
func (s Secret) Reveal() string { return s.value }

// IsSet reports whether the value is not empty.
func (s Secret) IsSet() bool { return s.value != "" }

// String shows only whether the value is set.
func (s Secret) String() string {
	if s.value == "" {
		return "(not set)"
	}
	return "(set, hidden)"
}

// GoString masks the value for %#v.
func (s Secret) GoString() string { return s.String() }

// Format masks the value for every verb.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// LogValue masks the value in structured logs.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText masks the value in JSON and other text encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
