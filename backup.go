package switchyard

import "time"

// Backup formats.
const (
	BackupFormat  = "switchyard-backup"
	BackupVersion = 1
)

// BackupManifest describes a backup: a consistent snapshot of every table
// of the configuration and its history, taken in one read transaction.
type BackupManifest struct {
	Format    string    `json:"format"`
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	// Dialect is the database it was taken from (sqlite or postgres); a
	// backup is restored into the same kind of database (export and import
	// move configuration between kinds).
	Dialect string `json:"dialect"`
	// SchemaVersion is the newest schema migration applied when it was
	// taken; it is restored into a database at the same version.
	SchemaVersion int64 `json:"schema_version"`
	// MasterKeyIDs are the master keys that wrap its data keys: secrets in
	// it open only with one of them.
	MasterKeyIDs []string `json:"master_key_ids"`
	// Tables lists each table in restore order with its columns, row count
	// and the SHA-256 of its data.
	Tables []BackupTable `json:"tables"`
	// Note says why it was taken ("scheduled", "manual", "pre-restore",
	// "pre-migrate").
	Note string `json:"note,omitempty"`
}

// BackupTable is one table of a backup.
type BackupTable struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
	Rows    int64    `json:"rows"`
	SHA256  string   `json:"sha256"`
}

// Rows counts the rows of every table.
func (m *BackupManifest) Rows() int64 {
	var n int64
	for _, t := range m.Tables {
		n += t.Rows
	}
	return n
}
