package sqlstore

import (
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/switchyard/switchyard"
)

type postgresDialect struct{}

func (postgresDialect) name() string   { return "postgres" }
func (postgresDialect) driver() string { return "pgx" }

func (postgresDialect) configure(db *sql.DB, maxOpen int) {
	if maxOpen <= 0 {
		maxOpen = 10
	}
	db.SetMaxOpenConns(maxOpen)
	db.SetMaxIdleConns(maxOpen)
	db.SetConnMaxIdleTime(5 * time.Minute)
}

// rebind turns "?" into "$1", "$2", …; queries here never hold a literal "?".
func (postgresDialect) rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

func (postgresDialect) like() string { return "ILIKE" }

func (postgresDialect) forUpdate() string { return " FOR UPDATE" }

func (postgresDialect) time(t time.Time) any { return t.UTC() }

func (postgresDialect) classify(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case "23505":
		return uniqueViolation(pe.ConstraintName, err)
	case "23503":
		return foreignKeyViolation(err)
	case "23514", "23502", "22P02":
		return checkViolation(err)
	case "40001", "40P01", "55P03":
		return &switchyard.Error{Code: switchyard.EUNAVAILABLE, Message: "the database could not complete the change because of a concurrent one; try again", Err: err}
	}
	return err
}
