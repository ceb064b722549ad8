package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/secret"
)

// LoadKeyring unwraps the data keys stored in the database with the master
// key and makes them the store's keyring. On an empty database it creates
// the first data key. A master key other than the one the data keys were
// wrapped with is refused with an error naming both key ids.
func (db *DB) LoadKeyring(ctx context.Context, mk *secret.MasterKey) (*secret.Keyring, error) {
	var kr *secret.Keyring
	err := db.tx(ctx, func(t *store) error {
		var err error
		kr, err = t.readKeyring(ctx, mk)
		if err != nil {
			return err
		}
		if kr.Active() != "" {
			return nil
		}
		id, wrapped, err := mk.NewDataKey()
		if err != nil {
			return err
		}
		if _, err := t.exec(ctx, `INSERT INTO encryption_keys (id, wrapped, master_key_id, active, created_at) VALUES (?, ?, ?, ?, ?)`,
			id, wrapped, mk.ID(), true, t.ts(t.nowUTC())); err != nil {
			return err
		}
		if err := kr.Add(id, wrapped); err != nil {
			return err
		}
		return kr.SetActive(id)
	})
	if err != nil {
		return nil, err
	}
	db.SetKeyring(kr)
	db.mk = mk
	return kr, nil
}

func (s *store) readKeyring(ctx context.Context, mk *secret.MasterKey) (*secret.Keyring, error) {
	kr := secret.NewKeyring(mk)
	rows, err := s.query(ctx, `SELECT id, wrapped, master_key_id, active FROM encryption_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("read encryption keys: %w", err)
	}
	defer rows.Close()
	active := ""
	for rows.Next() {
		var id, wrapped, mkid string
		var isActive bool
		if err := rows.Scan(&id, &wrapped, &mkid, &isActive); err != nil {
			return nil, err
		}
		if mkid != mk.ID() {
			return nil, &switchyard.Error{Code: switchyard.ESECRET, Err: secret.ErrWrongMasterKey,
				Message: fmt.Sprintf("master key %s does not match the key that encrypted the data (%s); set %s to the master key this database was created with",
					mk.ID(), mkid, secret.MasterKeyEnv)}
		}
		if err := kr.Add(id, wrapped); err != nil {
			return nil, &switchyard.Error{Code: switchyard.ESECRET, Message: fmt.Sprintf("data key %s cannot be unwrapped: %v", id, err), Err: err}
		}
		if isActive {
			active = id
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if active != "" {
		if err := kr.SetActive(active); err != nil {
			return nil, err
		}
	}
	return kr, nil
}

// KeyStatus is one data key and how many secrets it protects.
type KeyStatus struct {
	ID        string
	Active    bool
	CreatedAt time.Time
	Secrets   int
}

// KeyStatuses lists every data key with the number of stored secrets each
// one encrypts. A key protecting no secret and not active can be retired.
func (db *DB) KeyStatuses(ctx context.Context) ([]KeyStatus, error) {
	var out []KeyStatus
	err := db.tx(ctx, func(t *store) error {
		rows, err := t.query(ctx, `SELECT id, active, created_at FROM encryption_keys ORDER BY created_at, id`)
		if err != nil {
			return err
		}
		idx := map[string]int{}
		for rows.Next() {
			var k KeyStatus
			if err := rows.Scan(&k.ID, &k.Active, dbTime{&k.CreatedAt}); err != nil {
				rows.Close()
				return err
			}
			idx[k.ID] = len(out)
			out = append(out, k)
		}
		if err := closeRows(rows); err != nil {
			return err
		}
		return t.walkSecrets(ctx, false, func(_ string, f *sealedField) error {
			kid, err := secret.KeyID(f.CT)
			if err != nil {
				return err
			}
			i, ok := idx[kid]
			if !ok {
				i = len(out)
				idx[kid] = i
				out = append(out, KeyStatus{ID: kid})
			}
			out[i].Secrets++
			return nil
		})
	})
	return out, err
}

// RotateKeys creates a new data key, makes it active and re-encrypts every
// stored secret with it, all in one transaction: on failure nothing changes.
// It returns the new key id and how many secrets it re-encrypted.
func (db *DB) RotateKeys(ctx context.Context, mk *secret.MasterKey) (string, int, error) {
	var kr *secret.Keyring
	var newID string
	n := 0
	err := db.tx(ctx, func(t *store) error {
		var err error
		if kr, err = t.readKeyring(ctx, mk); err != nil {
			return err
		}
		var wrapped string
		if newID, wrapped, err = mk.NewDataKey(); err != nil {
			return err
		}
		if _, err := t.exec(ctx, `UPDATE encryption_keys SET active = ? WHERE active = ?`, false, true); err != nil {
			return err
		}
		if _, err := t.exec(ctx, `INSERT INTO encryption_keys (id, wrapped, master_key_id, active, created_at) VALUES (?, ?, ?, ?, ?)`,
			newID, wrapped, mk.ID(), true, t.ts(t.nowUTC())); err != nil {
			return err
		}
		if err := kr.Add(newID, wrapped); err != nil {
			return err
		}
		if err := kr.SetActive(newID); err != nil {
			return err
		}
		return t.walkSecrets(ctx, true, func(aadStr string, f *sealedField) error {
			pt, err := kr.Decrypt(f.CT, aadStr)
			if err != nil {
				return &switchyard.Error{Code: switchyard.ESECRET, Message: fmt.Sprintf("cannot re-encrypt %s: %v", aadStr, err), Err: err}
			}
			ct, err := kr.Encrypt(pt, aadStr)
			if err != nil {
				return err
			}
			f.CT = ct
			n++
			return nil
		})
	})
	if err != nil {
		return "", 0, err
	}
	db.SetKeyring(kr)
	return newID, n, nil
}

// walkSecrets calls fn for every stored secret field with its additional
// data. With write set, the rows are saved back with what fn changed.
func (s *store) walkSecrets(ctx context.Context, write bool, fn func(aad string, f *sealedField) error) error {
	visit := func(table, id, prefix string, fields map[string]sealedField) error {
		names := make([]string, 0, len(fields))
		for name := range fields {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			f := fields[name]
			if err := fn(aad(table, id, prefix+name), &f); err != nil {
				return err
			}
			fields[name] = f
		}
		return nil
	}
	type row struct {
		id  string
		raw []byte
	}
	load := func(q string) ([]row, error) {
		return queryAll(ctx, s, q, nil, func(sc interface{ Scan(...any) error }) (row, error) {
			var r row
			var raw json.RawMessage
			err := sc.Scan(&r.id, jsonCol{&raw})
			r.raw = raw
			return r, err
		})
	}
	// Credential secrets and provider headers are maps of sealed fields.
	for _, src := range []struct{ table, column, prefix string }{
		{"provider_credentials", "secrets", ""},
		{"providers", "headers", "headers."},
	} {
		rows, err := load(`SELECT id, ` + src.column + ` FROM ` + src.table)
		if err != nil {
			return err
		}
		for _, r := range rows {
			var fields map[string]sealedField
			if err := json.Unmarshal(r.raw, &fields); err != nil {
				return fmt.Errorf("%s %s: %w", src.table, r.id, err)
			}
			if len(fields) == 0 {
				continue
			}
			if err := visit(src.table, r.id, src.prefix, fields); err != nil {
				return err
			}
			if write {
				v, err := jsonArg(fields, "{}")
				if err != nil {
					return err
				}
				if _, err := s.exec(ctx, `UPDATE `+src.table+` SET `+src.column+` = ? WHERE id = ?`, v, r.id); err != nil {
					return err
				}
			}
		}
	}
	// A connection's own credential holds its sealed fields inside.
	rows, err := load(`SELECT id, credential FROM connections WHERE credential IS NOT NULL`)
	if err != nil {
		return err
	}
	for _, r := range rows {
		var c storedCredential
		if err := json.Unmarshal(r.raw, &c); err != nil {
			return fmt.Errorf("connections %s: %w", r.id, err)
		}
		if len(c.Secrets) == 0 {
			continue
		}
		if err := visit("connections", r.id, "credential.", c.Secrets); err != nil {
			return err
		}
		if write {
			v, err := nullJSONArg(c)
			if err != nil {
				return err
			}
			if _, err := s.exec(ctx, `UPDATE connections SET credential = ? WHERE id = ?`, v, r.id); err != nil {
				return err
			}
		}
	}
	return nil
}
