package httpapi

import (
	"context"
	"encoding/json"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/httpapi/apigen"
	"github.com/switchyard/switchyard/legacy"
)

func legacySources(body *apigen.LegacyRequest) legacy.Sources {
	var src legacy.Sources
	if body == nil {
		return src
	}
	src.Connections = deref(body.Connections)
	if body.LitellmConfig != nil {
		src.LiteLLM = []byte(*body.LitellmConfig)
	}
	return src
}

// recode turns a value into the generated type of the same JSON shape.
func recode[T any](v any) (T, error) {
	var out T
	b, err := json.Marshal(v)
	if err != nil {
		return out, err
	}
	return out, json.Unmarshal(b, &out)
}

func legacyOut(m *switchyard.LegacyMigration) (apigen.LegacyMigration, error) {
	out := apigen.LegacyMigration{Id: m.ID, CreatedAt: m.CreatedAt, ActorId: m.ActorID, Sources: m.Sources, RolledBackAt: m.RolledBackAt}
	if err := json.Unmarshal(m.Report, &out.Report); err != nil {
		return out, err
	}
	if err := json.Unmarshal(m.Changes, &out.Changes); err != nil {
		return out, err
	}
	return out, nil
}

// PlanLegacyMigration reports what a migration would do (admins).
func (h *handlers) PlanLegacyMigration(ctx context.Context, req apigen.PlanLegacyMigrationRequestObject) (apigen.PlanLegacyMigrationResponseObject, error) {
	rep, err := h.ctl.LegacyPlan(ctx, actorFrom(ctx), legacySources(req.Body))
	if err != nil {
		return nil, err
	}
	out, err := recode[apigen.LegacyReport](rep)
	if err != nil {
		return nil, err
	}
	return apigen.PlanLegacyMigration200JSONResponse(out), nil
}

// ApplyLegacyMigration performs and records a migration (admins).
func (h *handlers) ApplyLegacyMigration(ctx context.Context, req apigen.ApplyLegacyMigrationRequestObject) (apigen.ApplyLegacyMigrationResponseObject, error) {
	m, err := h.ctl.LegacyApply(ctx, actorFrom(ctx), legacySources(req.Body))
	if err != nil {
		return nil, err
	}
	out, err := legacyOut(m)
	if err != nil {
		return nil, err
	}
	return apigen.ApplyLegacyMigration201JSONResponse(out), nil
}

// GetLegacyMigration reads one migration (admins).
func (h *handlers) GetLegacyMigration(ctx context.Context, req apigen.GetLegacyMigrationRequestObject) (apigen.GetLegacyMigrationResponseObject, error) {
	m, err := h.ctl.LegacyMigration(ctx, actorFrom(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	out, err := legacyOut(m)
	if err != nil {
		return nil, err
	}
	return apigen.GetLegacyMigration200JSONResponse(out), nil
}

// ListLegacyMigrations lists migrations, newest first (admins).
func (h *handlers) ListLegacyMigrations(ctx context.Context, req apigen.ListLegacyMigrationsRequestObject) (apigen.ListLegacyMigrationsResponseObject, error) {
	page, err := h.ctl.LegacyMigrations(ctx, actorFrom(ctx), listOptions(req.Params.Limit, req.Params.Cursor))
	if err != nil {
		return nil, err
	}
	out := apigen.ListLegacyMigrations200JSONResponse{Items: make([]apigen.LegacyMigration, 0, len(page.Items)), NextCursor: nextCursor(page.NextCursor)}
	for _, m := range page.Items {
		o, err := legacyOut(m)
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, o)
	}
	return out, nil
}

// RollbackLegacyMigration restores the state before a migration (admins).
func (h *handlers) RollbackLegacyMigration(ctx context.Context, req apigen.RollbackLegacyMigrationRequestObject) (apigen.RollbackLegacyMigrationResponseObject, error) {
	res, err := h.ctl.LegacyRollback(ctx, actorFrom(ctx), req.Id, deref(req.Params.Force))
	if err != nil {
		return nil, err
	}
	out, err := recode[apigen.LegacyRollback](res)
	if err != nil {
		return nil, err
	}
	return apigen.RollbackLegacyMigration200JSONResponse(out), nil
}
