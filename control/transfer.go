package control

import (
	"context"
	"os"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/auth"
	"github.com/switchyard/switchyard/transfer"
)

// Export writes the configuration as a transfer document (admins only).
// With a passphrase the secrets are sealed into it; gateway keys never
// leave.
func (s *Service) Export(ctx context.Context, a *Actor, opts transfer.ExportOptions) (*transfer.Document, error) {
	if err := requireAdmin(a, "export the configuration"); err != nil {
		return nil, err
	}
	opts.Now = s.now
	return transfer.Export(ctx, s.store, opts)
}

// Import plans a transfer document and, unless a dry run, applies it in
// one transaction with its audit entry (admins only). Created connections
// get new gateway keys, shown once in the plan.
func (s *Service) Import(ctx context.Context, a *Actor, d *transfer.Document, opts transfer.ImportOptions) (*transfer.Plan, error) {
	if err := requireAdmin(a, "import configuration"); err != nil {
		return nil, err
	}
	opts.NewKey = func() (string, string, string, error) { return auth.NewToken(auth.PrefixGatewayKey) }
	opts.Applied = func(ctx context.Context, tx switchyard.Store, plan *transfer.Plan) error {
		summary := map[string]any{"on_conflict": plan.OnConflict, "secrets": plan.Secrets, "summary": plan.Summary,
			"providers": len(d.Providers), "templates": len(d.Templates), "connections": len(d.Connections)}
		return s.audit(ctx, tx, a, "import", "configuration", "", nil, summary)
	}
	return transfer.Import(ctx, s.store, d, opts)
}

// backupsOrErr returns the backups, or why there are none.
func (s *Service) backupsOrErr(a *Actor, what string) (*transfer.Backups, error) {
	if err := requireAdmin(a, what); err != nil {
		return nil, err
	}
	if s.backups == nil {
		return nil, switchyard.Errorf(switchyard.EUNAVAILABLE, "backups are not configured in this process")
	}
	return s.backups, nil
}

// ListBackups lists the backups, newest first (admins only).
func (s *Service) ListBackups(ctx context.Context, a *Actor) ([]transfer.BackupInfo, error) {
	b, err := s.backupsOrErr(a, "list backups")
	if err != nil {
		return nil, err
	}
	return b.List()
}

// CreateBackup takes a backup now (admins only).
func (s *Service) CreateBackup(ctx context.Context, a *Actor) (*transfer.BackupInfo, error) {
	b, err := s.backupsOrErr(a, "take backups")
	if err != nil {
		return nil, err
	}
	info, err := b.Create(ctx, transfer.BackupManual)
	if err != nil {
		return nil, err
	}
	return info, s.store.InTx(ctx, func(tx switchyard.Store) error {
		return s.audit(ctx, tx, a, "backup", "backup", info.Name, nil, map[string]any{"rows": info.Manifest.Rows(), "size": info.Size})
	})
}

// OpenBackup opens a backup file for download (admins only).
func (s *Service) OpenBackup(ctx context.Context, a *Actor, name string) (*os.File, error) {
	b, err := s.backupsOrErr(a, "download backups")
	if err != nil {
		return nil, err
	}
	return b.Open(name)
}

// RestoreBackup restores a backup after taking an undo backup (admins
// only). The audit entry is written after the restore, which replaces the
// audit log with the backup's.
func (s *Service) RestoreBackup(ctx context.Context, a *Actor, name string) (restored, undo *transfer.BackupInfo, err error) {
	b, err := s.backupsOrErr(a, "restore backups")
	if err != nil {
		return nil, nil, err
	}
	restored, undo, err = b.Restore(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	err = s.store.InTx(ctx, func(tx switchyard.Store) error {
		return s.audit(ctx, tx, a, "restore", "backup", name, nil, map[string]any{"undo": undo.Name, "rows": restored.Manifest.Rows()})
	})
	return restored, undo, err
}
