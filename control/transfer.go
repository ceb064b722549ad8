package control

import (
	"context"

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
