package sqlstore

import (
	"database/sql"
	"database/sql/driver"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/switchyard/switchyard"
)

// dialect holds what differs between SQLite and PostgreSQL.
type dialect interface {
	name() string
	driver() string
	configure(db *sql.DB, maxOpen int)
	// rebind turns "?" placeholders into the dialect's own.
	rebind(query string) string
	// forUpdate is the clause that locks selected rows, or "".
	forUpdate() string
	// like is the case-insensitive LIKE operator.
	like() string
	// time converts a time to the value stored.
	time(t time.Time) any
	// classify maps a driver error to a *switchyard.Error where it can.
	classify(err error) error
}

func dialectFor(raw string) (dialect, string, error) {
	switch {
	case raw == "sqlite::memory:":
		// One connection that never closes: each SQLite connection to
		// ":memory:" is a database of its own.
		return sqliteDialect{memory: true}, sqliteDSN(":memory:"), nil
	case strings.HasPrefix(raw, "sqlite://"):
		path := strings.TrimPrefix(raw, "sqlite://")
		if path == "" {
			return nil, "", switchyard.Errorf(switchyard.EINVALID, "database URL %q names no file; use sqlite:///absolute/path.db or sqlite://relative/path.db", raw)
		}
		return sqliteDialect{}, sqliteDSN(path), nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		return postgresDialect{}, raw, nil
	}
	return nil, "", switchyard.Errorf(switchyard.EINVALID, "database URL must start with sqlite:// or postgres:// (got scheme %q)", schemeOf(raw))
}

func schemeOf(raw string) string {
	if i := strings.Index(raw, "://"); i >= 0 {
		return raw[:i]
	}
	return ""
}

// redactDSN removes a password that an error message may repeat.
func redactDSN(msg, dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "xxxxx")
		}
	}
	return msg
}

// timeLayout is fixed-width so that text order is time order in SQLite.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// dbTime scans a time stored by either dialect.
type dbTime struct{ t *time.Time }

func (d dbTime) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*d.t = v.UTC()
	case string:
		return d.parse(v)
	case []byte:
		return d.parse(string(v))
	default:
		return fmt.Errorf("cannot scan %T as a time", src)
	}
	return nil
}

func (d dbTime) parse(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	*d.t = t.UTC()
	return nil
}

// nullTime scans an optional time.
type nullTime struct{ t **time.Time }

func (n nullTime) Scan(src any) error {
	if src == nil {
		*n.t = nil
		return nil
	}
	var t time.Time
	if err := (dbTime{&t}).Scan(src); err != nil {
		return err
	}
	*n.t = &t
	return nil
}

// jsonCol scans a JSON column (text or jsonb) into a value; NULL leaves it.
type jsonCol struct{ v any }

func (j jsonCol) Scan(src any) error {
	var b []byte
	switch s := src.(type) {
	case nil:
		return nil
	case string:
		b = []byte(s)
	case []byte:
		b = s
	default:
		return fmt.Errorf("cannot scan %T as JSON", src)
	}
	return json.Unmarshal(b, j.v)
}

// jsonArg encodes a value for a JSON column; nil pointers and nil maps or
// slices become the given empty document.
func jsonArg(v any, empty string) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	if string(b) == "null" {
		return empty, nil
	}
	return string(b), nil
}

// nullJSONArg encodes an optional value; nil becomes SQL NULL.
func nullJSONArg(v any) (driver.Value, error) {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return nil, err
	}
	return string(b), nil
}

// escapeLike escapes LIKE wildcards so that a search is literal.
func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

func encodeCursor(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

func decodeCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) == 0 || len(b) > 64 {
		return "", &switchyard.Error{Code: switchyard.EINVALID, Message: "cursor is not valid; pass the next_cursor of the previous page",
			Fields: []switchyard.FieldError{{Field: "cursor", Code: "invalid_cursor", Message: "pass the next_cursor of the previous page unchanged"}}}
	}
	return string(b), nil
}

func pageLimit(l int) (int, error) {
	switch {
	case l == 0:
		return switchyard.DefaultPageSize, nil
	case l < 0 || l > switchyard.MaxPageSize:
		return 0, &switchyard.Error{Code: switchyard.EINVALID, Message: fmt.Sprintf("limit must be between 1 and %d", switchyard.MaxPageSize),
			Fields: []switchyard.FieldError{{Field: "limit", Code: "out_of_range", Message: fmt.Sprintf("must be between 1 and %d", switchyard.MaxPageSize)}}}
	}
	return l, nil
}

// where builds a WHERE clause from conditions joined by AND.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// paginate appends keyset pagination on id to w and returns the query tail
// and the limit to use; the caller fetches limit+1 rows and calls finish.
func paginate(w *where, opts switchyard.ListOptions, desc bool) (tail string, limit int, err error) {
	limit, err = pageLimit(opts.Limit)
	if err != nil {
		return "", 0, err
	}
	after, err := decodeCursor(opts.Cursor)
	if err != nil {
		return "", 0, err
	}
	order := "ASC"
	if after != "" {
		if desc {
			w.add("id < ?", after)
		} else {
			w.add("id > ?", after)
		}
	}
	if desc {
		order = "DESC"
	}
	return fmt.Sprintf(" ORDER BY id %s LIMIT %d", order, limit+1), limit, nil
}

// finishPage trims the extra row and sets the next cursor.
func finishPage[T any](items []T, limit int, id func(T) string) switchyard.Page[T] {
	if len(items) > limit {
		items = items[:limit]
		return switchyard.Page[T]{Items: items, NextCursor: encodeCursor(id(items[len(items)-1]))}
	}
	return switchyard.Page[T]{Items: items}
}

// constraintFields names the input field behind each unique constraint, by
// the SQLite column list and by the PostgreSQL constraint name.
var constraintFields = map[string]struct{ field, what string }{
	"users.username":              {"username", "a user with this username"},
	"users_username_key":          {"username", "a user with this username"},
	"api_tokens.hash":             {"hash", "a token with this hash"},
	"api_tokens_hash_key":         {"hash", "a token with this hash"},
	"provider_templates.slug":     {"slug", "a template with this slug"},
	"provider_templates_slug_key": {"slug", "a template with this slug"},
	"providers.slug":              {"slug", "a provider with this slug"},
	"providers_slug_key":          {"slug", "a provider with this slug"},
	"providers.system_type":       {"system_type", "a system provider of this type"},
	"providers_system_type_key":   {"system_type", "a system provider of this type"},
	"provider_credentials.provider_id, provider_credentials.name": {"credentials.name", "a credential with this name on the provider"},
	"provider_credentials_provider_id_name_key":                   {"credentials.name", "a credential with this name on the provider"},
	"models.provider_id, models.upstream_id":                      {"upstream_id", "a model with this upstream id on the provider"},
	"models_provider_id_upstream_id_key":                          {"upstream_id", "a model with this upstream id on the provider"},
	"connections.key_hash":                                        {"key_hash", "a connection with this key"},
	"connections_key_hash_key":                                    {"key_hash", "a connection with this key"},
	"connections.owner_id, connections.name":                      {"name", "a connection with this name for this owner"},
	"sessions.hash":                                               {"hash", "a session with this token"},
	"sessions_hash_key":                                           {"hash", "a session with this token"},
	"connections_owner_id_name_key":                               {"name", "a connection with this name for this owner"},
}

func uniqueViolation(key string, err error) error {
	cf, ok := constraintFields[key]
	if !ok {
		return &switchyard.Error{Code: switchyard.ECONFLICT, Message: "a unique value is already taken", Err: err}
	}
	return &switchyard.Error{Code: switchyard.ECONFLICT, Message: cf.what + " already exists; choose another " + cf.field,
		Fields: []switchyard.FieldError{{Field: cf.field, Code: "taken", Message: cf.what + " already exists"}}, Err: err}
}

func foreignKeyViolation(err error) error {
	return &switchyard.Error{Code: switchyard.ECONFLICT,
		Message: "the change refers to a resource that does not exist, or another resource still depends on this one", Err: err}
}

func checkViolation(err error) error {
	return &switchyard.Error{Code: switchyard.EINVALID, Message: "a value is outside what the database accepts", Err: err}
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

func asError(err error, target **switchyard.Error) bool { return errors.As(err, target) }
