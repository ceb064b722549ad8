package httpapi

import (
	"context"
	"encoding/json"

	"github.com/switchyard/switchyard/httpapi/apigen"
	"github.com/switchyard/switchyard/transfer"
)

func (h *handlers) ExportConfig(ctx context.Context, req apigen.ExportConfigRequestObject) (apigen.ExportConfigResponseObject, error) {
	opts := transfer.ExportOptions{}
	if req.Params.Provider != nil {
		opts.Providers = *req.Params.Provider
	}
	if req.Params.Template != nil {
		opts.Templates = *req.Params.Template
	}
	if req.Params.XSwitchyardPassphrase != nil {
		opts.Passphrase = *req.Params.XSwitchyardPassphrase
	}
	d, err := h.ctl.Export(ctx, actorFrom(ctx), opts)
	if err != nil {
		return nil, err
	}
	// The document's own types are the contract (transfer/schema.json);
	// the API passes it through as it is.
	b, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	var out apigen.ExportDocument
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return apigen.ExportConfig200JSONResponse(out), nil
}

func (h *handlers) ImportConfig(ctx context.Context, req apigen.ImportConfigRequestObject) (apigen.ImportConfigResponseObject, error) {
	b, err := json.Marshal(req.Body)
	if err != nil {
		return nil, err
	}
	d, err := transfer.Decode(b)
	if err != nil {
		return nil, err
	}
	opts := transfer.ImportOptions{DryRun: req.Params.Mode == nil || *req.Params.Mode != apigen.Apply}
	if req.Params.OnConflict != nil {
		opts.OnConflict = string(*req.Params.OnConflict)
	}
	if req.Params.XSwitchyardPassphrase != nil {
		opts.Passphrase = *req.Params.XSwitchyardPassphrase
	}
	plan, err := h.ctl.Import(ctx, actorFrom(ctx), d, opts)
	if err != nil {
		return nil, err
	}
	out := apigen.ImportConfig200JSONResponse{DryRun: plan.DryRun, OnConflict: apigen.ImportPlanOnConflict(plan.OnConflict),
		Secrets: apigen.ImportPlanSecrets(plan.Secrets), Summary: plan.Summary, Items: make([]apigen.ImportPlanItem, 0, len(plan.Items))}
	for _, it := range plan.Items {
		item := apigen.ImportPlanItem{Kind: apigen.ImportPlanItemKind(it.Kind), Key: it.Key, Path: it.Path,
			Action: apigen.ImportPlanItemAction(it.Action), Note: optString(it.Note), RenamedTo: optString(it.RenamedTo),
			GatewayKey: optString(it.GatewayKey)}
		if it.Conflict {
			item.Conflict = &it.Conflict
		}
		if len(it.Changes) > 0 {
			item.Changes = &it.Changes
		}
		out.Items = append(out.Items, item)
	}
	return out, nil
}

// optString is nil for an empty string.
func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func backupOut(b *transfer.BackupInfo) (apigen.Backup, error) {
	// The manifest's own JSON is the contract; pass it through.
	raw, err := json.Marshal(b)
	if err != nil {
		return apigen.Backup{}, err
	}
	var out apigen.Backup
	err = json.Unmarshal(raw, &out)
	return out, err
}

func (h *handlers) ListBackups(ctx context.Context, _ apigen.ListBackupsRequestObject) (apigen.ListBackupsResponseObject, error) {
	list, err := h.ctl.ListBackups(ctx, actorFrom(ctx))
	if err != nil {
		return nil, err
	}
	out := apigen.ListBackups200JSONResponse{Items: make([]apigen.Backup, 0, len(list))}
	for i := range list {
		b, err := backupOut(&list[i])
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, b)
	}
	return out, nil
}

func (h *handlers) CreateBackup(ctx context.Context, _ apigen.CreateBackupRequestObject) (apigen.CreateBackupResponseObject, error) {
	info, err := h.ctl.CreateBackup(ctx, actorFrom(ctx))
	if err != nil {
		return nil, err
	}
	b, err := backupOut(info)
	if err != nil {
		return nil, err
	}
	return apigen.CreateBackup201JSONResponse(b), nil
}

func (h *handlers) DownloadBackup(ctx context.Context, req apigen.DownloadBackupRequestObject) (apigen.DownloadBackupResponseObject, error) {
	f, err := h.ctl.OpenBackup(ctx, actorFrom(ctx), req.Name)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return apigen.DownloadBackup200ApplicationgzipResponse{Body: f, ContentLength: fi.Size()}, nil
}

func (h *handlers) RestoreBackup(ctx context.Context, req apigen.RestoreBackupRequestObject) (apigen.RestoreBackupResponseObject, error) {
	restored, undo, err := h.ctl.RestoreBackup(ctx, actorFrom(ctx), req.Name)
	if err != nil {
		return nil, err
	}
	r, err := backupOut(restored)
	if err != nil {
		return nil, err
	}
	u, err := backupOut(undo)
	if err != nil {
		return nil, err
	}
	return apigen.RestoreBackup200JSONResponse{Restored: r, Undo: u}, nil
}
