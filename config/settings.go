package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Setting describes one setting: where it comes from, its default and what it
// means. Settings returns them all, in the order they are documented.
type Setting struct {
	Name    string // the Config field, such as "Addr"
	Env     string // the environment variable, such as "SWITCHYARD_ADDR"
	Flag    string // the flag name without '-', or "" for secrets, which have no flag
	Default string // the default as shown to people; "" when there is none
	Help    string // what the setting means, one or two sentences
	Secret  bool   // the value is never shown, not even in errors

	// set parses and validates v and stores it in c. Its error completes the
	// sentence "<setting>: <value> …", saying what is wrong and what is
	// accepted.
	set func(c *Config, v string) error
	// get formats the value in c for String and LogValue, masked or redacted
	// where needed.
	get func(c *Config) string
	// def computes the default from the settings before it; nil means Default.
	def func(c *Config) string
	// show formats a bad value for an error message; nil means quoted.
	show func(v string) string
}

func (s Setting) defaultValue(c *Config) string {
	if s.def != nil {
		return s.def(c)
	}
	return s.Default
}

// label names the setting in messages: "SWITCHYARD_ADDR (-addr)".
func (s Setting) label() string {
	if s.Flag == "" {
		return s.Env
	}
	return s.Env + " (-" + s.Flag + ")"
}

// key names the setting in String and LogValue: "addr", "database_url".
func (s Setting) key() string {
	return strings.ToLower(strings.TrimPrefix(s.Env, "SWITCHYARD_"))
}

// Settings returns the description of every setting.
func Settings() []Setting { return slices.Clone(settings()) }

const (
	defaultAddr    = "127.0.0.1:8080"
	defaultDataDir = "./switchyard-data"
	sqlitePrefix   = "sqlite://"
	sqliteMemory   = "sqlite::memory:"

	minBody = 1 << 10
	maxBody = 1 << 30

	maxShutdown = 10 * time.Minute
	maxConns    = 1000
)

func settings() []Setting {
	return []Setting{
		{
			Name: "Addr", Env: "SWITCHYARD_ADDR", Flag: "addr", Default: defaultAddr,
			Help: "Address the HTTP server listens on, as host:port. Use 0.0.0.0:8080 or :8080 to listen on every interface.",
			set: func(c *Config, v string) error {
				host, port, err := net.SplitHostPort(v)
				if err != nil || strings.ContainsAny(host, " /") {
					return errors.New("is not host:port; use e.g. 127.0.0.1:8080")
				}
				if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
					return errors.New("has a port that is not a number from 0 to 65535; use e.g. 127.0.0.1:8080")
				}
				c.Addr = v
				return nil
			},
			get: func(c *Config) string { return c.Addr },
		},
		{
			Name: "DataDir", Env: "SWITCHYARD_DATA_DIR", Flag: "data-dir", Default: defaultDataDir,
			Help: "Directory for the SQLite database and the generated master key file (master.key). Created on first start.",
			set: func(c *Config, v string) error {
				if strings.TrimSpace(v) == "" {
					return errors.New("is empty; give a directory, e.g. ./switchyard-data")
				}
				c.DataDir = v
				return nil
			},
			get: func(c *Config) string { return c.DataDir },
		},
		{
			Name: "DatabaseURL", Env: "SWITCHYARD_DATABASE_URL", Flag: "database-url",
			Default: "sqlite://<data dir>/switchyard.db",
			Help: "Database to use: sqlite:///absolute/path.db, sqlite://relative/path.db, sqlite::memory: (tests only) " +
				"or postgres://user:password@host:5432/dbname (postgresql:// also works).",
			def: func(c *Config) string {
				return sqlitePrefix + filepath.ToSlash(filepath.Join(c.DataDir, "switchyard.db"))
			},
			set: func(c *Config, v string) error {
				if err := checkDatabaseURL(v); err != nil {
					return err
				}
				c.DatabaseURL = v
				return nil
			},
			get: func(c *Config) string { return redactURL(c.DatabaseURL) },
			show: func(v string) string {
				if r := redactURL(v); r != hiddenURL {
					return strconv.Quote(r)
				}
				if !strings.Contains(v, "@") && !strings.Contains(strings.ToLower(v), "password") {
					return strconv.Quote(v) // nothing that could be a password
				}
				return "(value hidden: it may contain a password)"
			},
		},
		{
			Name: "MasterKey", Env: "SWITCHYARD_MASTER_KEY", Secret: true,
			Help: "Master key that encrypts stored credentials: base64 of 32 random bytes (openssl rand -base64 32). " +
				"When unset, the key is read from <data dir>/master.key, which is generated on first start; back it up.",
			set: func(c *Config, v string) error {
				if v != "" {
					if err := checkMasterKey(v); err != nil {
						return err
					}
				}
				c.MasterKey = NewSecret(v)
				return nil
			},
			get: func(c *Config) string { return c.MasterKey.String() },
		},
		{
			Name: "AdminToken", Env: "SWITCHYARD_ADMIN_TOKEN", Secret: true,
			Help: "Admin API token created at first start, when there are no users yet (at least 16 characters; openssl rand -hex 32 makes one).",
			set: func(c *Config, v string) error {
				if v != "" && (len(v) < 16 || strings.ContainsFunc(v, isSpaceOrControl)) {
					return errors.New("is not a usable token; use at least 16 characters without spaces, e.g. from: openssl rand -hex 32")
				}
				c.AdminToken = NewSecret(v)
				return nil
			},
			get: func(c *Config) string { return c.AdminToken.String() },
		},
		{
			Name: "LogLevel", Env: "SWITCHYARD_LOG_LEVEL", Flag: "log-level", Default: "info",
			Help: "Least severe log level written: debug, info, warn or error.",
			set: func(c *Config, v string) error {
				levels := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}
				l, ok := levels[strings.ToLower(strings.TrimSpace(v))]
				if !ok {
					return errors.New("is not a log level; use debug, info, warn or error")
				}
				c.LogLevel = l
				return nil
			},
			get: func(c *Config) string { return strings.ToLower(c.LogLevel.String()) },
		},
		{
			Name: "LogFormat", Env: "SWITCHYARD_LOG_FORMAT", Flag: "log-format", Default: "text",
			Help: "Log format: text (human-readable) or json (one object per line).",
			set: func(c *Config, v string) error {
				v = strings.ToLower(strings.TrimSpace(v))
				if v != "text" && v != "json" {
					return errors.New("is not a log format; use text or json")
				}
				c.LogFormat = v
				return nil
			},
			get: func(c *Config) string { return c.LogFormat },
		},
		{
			Name: "ShutdownTimeout", Env: "SWITCHYARD_SHUTDOWN_TIMEOUT", Flag: "shutdown-timeout", Default: "15s",
			Help: "How long a graceful shutdown waits for requests and streams in flight, as a duration (15s, 1m30s); at most 10m.",
			set: func(c *Config, v string) error {
				d, err := time.ParseDuration(strings.TrimSpace(v))
				if err != nil {
					if _, nerr := strconv.Atoi(strings.TrimSpace(v)); nerr == nil {
						return errors.New("has no unit; use a duration such as 15s or 1m30s")
					}
					return errors.New("is not a duration; use e.g. 15s or 1m30s")
				}
				if d <= 0 || d > maxShutdown {
					return errors.New("is out of range; use a duration more than 0 and at most 10m")
				}
				c.ShutdownTimeout = d
				return nil
			},
			get: func(c *Config) string { return c.ShutdownTimeout.String() },
		},
		{
			Name: "MaxBodyBytes", Env: "SWITCHYARD_MAX_BODY_BYTES", Flag: "max-body-bytes", Default: "1048576",
			Help: "Largest request body accepted, in bytes (1048576 is 1 MiB); from 1024 to 1073741824 (1 GiB).",
			set: func(c *Config, v string) error {
				n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				if err != nil || n < minBody || n > maxBody {
					return fmt.Errorf("is not a whole number of bytes from %d (1 KiB) to %d (1 GiB)", minBody, maxBody)
				}
				c.MaxBodyBytes = n
				return nil
			},
			get: func(c *Config) string { return strconv.FormatInt(c.MaxBodyBytes, 10) },
		},
		{
			Name: "DBMaxOpenConns", Env: "SWITCHYARD_DB_MAX_OPEN_CONNS", Flag: "db-max-open-conns", Default: "10",
			Help: "Most connections open to PostgreSQL at once, per replica. SQLite ignores it and uses its own pool settings.",
			set: func(c *Config, v string) error {
				n, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil || n < 1 || n > maxConns {
					return fmt.Errorf("is not a number from 1 to %d", maxConns)
				}
				c.DBMaxOpenConns = n
				return nil
			},
			get: func(c *Config) string { return strconv.Itoa(c.DBMaxOpenConns) },
		},
		{
			Name: "TLSCert", Env: "SWITCHYARD_TLS_CERT", Flag: "tls-cert",
			Help: "PEM certificate file (with any intermediates) for HTTPS. Set together with SWITCHYARD_TLS_KEY, or neither for plain HTTP.",
			set:  func(c *Config, v string) error { c.TLSCert = v; return nil },
			get:  func(c *Config) string { return c.TLSCert },
		},
		{
			Name: "TLSKey", Env: "SWITCHYARD_TLS_KEY", Flag: "tls-key",
			Help: "PEM private key file for HTTPS. Set together with SWITCHYARD_TLS_CERT.",
			set:  func(c *Config, v string) error { c.TLSKey = v; return nil },
			get:  func(c *Config) string { return c.TLSKey },
		},
		{
			Name: "OutboundAllow", Env: "SWITCHYARD_OUTBOUND_ALLOW", Flag: "outbound-allow",
			Help: "Non-public destinations that provider calls, connectivity tests, health checks, token fetches and alert channels may reach, " +
				"comma-separated: CIDRs (10.0.0.0/8, fd00::/8), IP addresses, host names (vllm.internal, or *.corp.example for its subdomains), " +
				"each optionally with a port (10.1.2.3:8000, [fd00::1]:8443, vllm.internal:8000). " +
				"Public addresses are always allowed, on any port; loopback, private, link-local (cloud metadata) and reserved addresses only when listed here.",
			set: func(c *Config, v string) error {
				entries, err := parseOutboundAllow(v)
				if err != nil {
					return err
				}
				c.OutboundAllow = entries
				return nil
			},
			get: func(c *Config) string { return strings.Join(c.OutboundAllow, ",") },
		},
		{
			Name: "BackupDir", Env: "SWITCHYARD_BACKUP_DIR", Flag: "backup-dir", Default: "<data dir>/backups",
			Help: "Directory for backups: scheduled ones, those taken before a restore or a schema migration, and those made through the API (created with mode 0700).",
			def:  func(c *Config) string { return filepath.Join(c.DataDir, "backups") },
			set:  func(c *Config, v string) error { c.BackupDir = v; return nil },
			get:  func(c *Config) string { return c.BackupDir },
		},
		{
			Name: "BackupInterval", Env: "SWITCHYARD_BACKUP_INTERVAL", Flag: "backup-interval", Default: "24h",
			Help: "How often a backup is taken, as a duration (24h, 6h); 0 turns scheduled backups off. With several replicas on PostgreSQL, one replica takes each.",
			set: func(c *Config, v string) error {
				v = strings.TrimSpace(v)
				if v == "0" {
					c.BackupInterval = 0
					return nil
				}
				d, err := time.ParseDuration(v)
				if err != nil || d < time.Minute {
					return errors.New("is not a duration of at least 1m (such as 24h or 6h), or 0 for none")
				}
				c.BackupInterval = d
				return nil
			},
			get: func(c *Config) string { return c.BackupInterval.String() },
		},
		{
			Name: "BackupKeep", Env: "SWITCHYARD_BACKUP_KEEP", Flag: "backup-keep", Default: "7",
			Help: "How many backups of each kind (scheduled, manual, pre-restore, pre-migrate) are kept; older ones are deleted.",
			set: func(c *Config, v string) error {
				n, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil || n < 1 || n > 1000 {
					return errors.New("is not a number from 1 to 1000")
				}
				c.BackupKeep = n
				return nil
			},
			get: func(c *Config) string { return strconv.Itoa(c.BackupKeep) },
		},
		retention("RetentionRaw", "SWITCHYARD_RETENTION_RAW", "retention-raw", "7d", time.Hour,
			"How long raw usage events (one per gateway request) are kept; they are deleted only once rolled up, and never in the current month (monthly budgets are summed from them)", func(c *Config) *time.Duration { return &c.RetentionRaw }),
		retention("RetentionMinute", "SWITCHYARD_RETENTION_MINUTE", "retention-minute", "2d", 3*time.Hour,
			"How long per-minute usage rollups are kept", func(c *Config) *time.Duration { return &c.RetentionMinute }),
		retention("RetentionHour", "SWITCHYARD_RETENTION_HOUR", "retention-hour", "90d", 3*24*time.Hour,
			"How long hourly usage rollups are kept", func(c *Config) *time.Duration { return &c.RetentionHour }),
		retention("RetentionDay", "SWITCHYARD_RETENTION_DAY", "retention-day", "730d", 24*time.Hour,
			"How long daily usage rollups are kept", func(c *Config) *time.Duration { return &c.RetentionDay }),
		{
			Name: "HealthChecks", Env: "SWITCHYARD_HEALTH_CHECKS", Flag: "health-checks", Default: "on",
			Help: "on or off: whether the health monitor checks each enabled provider on its interval (providers may also opt out one by one). " +
				"Off, a provider's status follows gateway outcomes alone.",
			set: func(c *Config, v string) error {
				switch strings.ToLower(strings.TrimSpace(v)) {
				case "on", "true", "1", "yes":
					c.HealthChecks = true
				case "off", "false", "0", "no":
					c.HealthChecks = false
				default:
					return errors.New("is not on or off")
				}
				return nil
			},
			get: func(c *Config) string {
				if c.HealthChecks {
					return "on"
				}
				return "off"
			},
		},
		{
			Name: "HealthConcurrency", Env: "SWITCHYARD_HEALTH_CONCURRENCY", Flag: "health-concurrency", Default: "4",
			Help: "Most health checks running at once; a provider due while all run waits for the next free slot. From 1 to 64.",
			set: func(c *Config, v string) error {
				n, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil || n < 1 || n > 64 {
					return errors.New("is not a number from 1 to 64")
				}
				c.HealthConcurrency = n
				return nil
			},
			get: func(c *Config) string { return strconv.Itoa(c.HealthConcurrency) },
		},
		{
			Name: "HealthTimeout", Env: "SWITCHYARD_HEALTH_TIMEOUT", Flag: "health-timeout", Default: "10s",
			Help: "How long one health check may take before it counts as failed (timeout), as a duration from 1s to 5m; " +
				"a provider's own timeout_ms applies when shorter.",
			set: func(c *Config, v string) error {
				d, err := parseDuration(v)
				if err != nil {
					return err
				}
				if d < time.Second || d > 5*time.Minute {
					return errors.New("is out of range; use a duration from 1s to 5m")
				}
				c.HealthTimeout = d
				return nil
			},
			get: func(c *Config) string { return c.HealthTimeout.String() },
		},
		{
			Name: "AlertInterval", Env: "SWITCHYARD_ALERT_INTERVAL", Flag: "alert-interval", Default: "10s",
			Help: "How often the alert rules are evaluated (on the replica that runs the health checks), as a duration from 1s to 10m; " +
				"see docs/alerts.md.",
			set: func(c *Config, v string) error {
				d, err := parseDuration(v)
				if err != nil {
					return err
				}
				if d < time.Second || d > 10*time.Minute {
					return errors.New("is out of range; use a duration from 1s to 10m")
				}
				c.AlertInterval = d
				return nil
			},
			get: func(c *Config) string { return c.AlertInterval.String() },
		},
		{
			Name: "AlertAttempts", Env: "SWITCHYARD_ALERT_ATTEMPTS", Flag: "alert-attempts", Default: "5",
			Help: "How many times an alert delivery is tried before it is given up, waiting 2s, 4s, 8s … (at most 1m) between tries. From 1 to 20.",
			set: func(c *Config, v string) error {
				n, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil || n < 1 || n > 20 {
					return errors.New("is not a number from 1 to 20")
				}
				c.AlertAttempts = n
				return nil
			},
			get: func(c *Config) string { return strconv.Itoa(c.AlertAttempts) },
		},
		retention("AlertRetention", "SWITCHYARD_ALERT_RETENTION", "alert-retention", "90d", 24*time.Hour,
			"How long resolved alerts and their delivery attempts are kept; older ones are deleted hourly", func(c *Config) *time.Duration { return &c.AlertRetention }),
		retention("HealthRetention", "SWITCHYARD_HEALTH_RETENTION", "health-retention", "7d", time.Hour,
			"How long health check results and provider status changes are kept; older ones are deleted hourly", func(c *Config) *time.Duration { return &c.HealthRetention }),
	}
}

// retention describes a usage-history retention setting: a duration with
// a day unit allowed (90d), at least least. The least values match
// analytics.MinRetention: the hour and day in progress are rebuilt from
// the finer rows, so those must outlive them.
func retention(name, env, flag, def string, least time.Duration, help string, field func(*Config) *time.Duration) Setting {
	return Setting{
		Name: name, Env: env, Flag: flag, Default: def,
		Help: fmt.Sprintf("%s, as a duration in days or hours (%s, 36h); at least %s.", help, def, formatDays(least)),
		set: func(c *Config, v string) error {
			d, err := parseDays(v)
			if err != nil {
				return err
			}
			if d < least {
				return fmt.Errorf("is too short; use at least %s", formatDays(least))
			}
			*field(c) = d
			return nil
		},
		get: func(c *Config) string { return formatDays(*field(c)) },
	}
}

// parseDays reads a duration that may also be a whole number of days (7d).
func parseDays(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if n, ok := strings.CutSuffix(v, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > 100*365 {
			return 0, errors.New("is not a number of days; use e.g. 7d or 36h")
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, errors.New("is not a duration; use e.g. 7d or 36h")
	}
	return d, nil
}

func formatDays(d time.Duration) string {
	switch {
	case d > 0 && d%(24*time.Hour) == 0:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	case d > 0 && d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	return d.String()
}

func isSQLite(v string) bool {
	return v == sqliteMemory || strings.HasPrefix(v, sqlitePrefix)
}

const databaseURLHelp = "use sqlite:///path/to/switchyard.db or postgres://user:password@host:5432/dbname"

func checkDatabaseURL(v string) error {
	switch {
	case v == sqliteMemory:
		return nil
	case strings.HasPrefix(v, sqlitePrefix):
		path := strings.TrimPrefix(v, sqlitePrefix)
		if path == "" {
			return errors.New("has no file path; use e.g. sqlite:///var/lib/switchyard/switchyard.db")
		}
		if strings.ContainsAny(path, "?#") {
			return errors.New("has query parameters, which are not supported (Switchyard sets the SQLite options itself); give only the file path")
		}
		return nil
	case strings.HasPrefix(v, "postgres://"), strings.HasPrefix(v, "postgresql://"):
		if _, err := url.Parse(v); err != nil {
			// err quotes the URL, password included; do not pass it on.
			return errors.New("is not a valid URL; use e.g. postgres://user:password@host:5432/dbname (percent-encode special characters in the password)")
		}
		return nil
	case strings.HasPrefix(v, "sqlite:"):
		return errors.New("is not a SQLite URL; " + databaseURLHelp + " (three slashes for an absolute path)")
	default:
		return errors.New("is not a database URL; " + databaseURLHelp)
	}
}

const hiddenURL = "(unparsable URL hidden)"

// redactURL hides the password of a PostgreSQL URL, in its user info and in
// any query parameter whose name contains "password". A URL that does not
// parse is hidden entirely, since where its password is cannot be known.
func redactURL(v string) string {
	if isSQLite(v) || v == "" {
		return v
	}
	u, err := url.Parse(v)
	if err != nil {
		return hiddenURL
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			if strings.Contains(strings.ToLower(k), "password") {
				q.Set(k, "xxxxx")
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// checkMasterKey accepts what secret.ParseMasterKey accepts: base64 (standard
// or URL-safe, padded or not) of exactly 32 bytes. It is checked here too so
// that a bad key is reported with every other bad setting.
func checkMasterKey(v string) error {
	v = strings.TrimSpace(v)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		raw, err := enc.DecodeString(v)
		if err != nil {
			continue
		}
		if len(raw) != 32 {
			return fmt.Errorf("decodes to %d bytes, want 32; generate a key with: openssl rand -base64 32", len(raw))
		}
		return nil
	}
	return errors.New("is not valid base64 (standard or URL-safe); generate a key with: openssl rand -base64 32")
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }

// parseDuration reads a duration with its unit.
func parseDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		if _, nerr := strconv.Atoi(strings.TrimSpace(v)); nerr == nil {
			return 0, errors.New("has no unit; use a duration such as 10s or 1h")
		}
		return 0, errors.New("is not a duration; use e.g. 10s or 1h")
	}
	return d, nil
}
