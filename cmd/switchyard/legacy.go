package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/legacy"
)

type legacyOpts struct {
	fromEnv, connections, force, asJSON *bool
	litellm                             *string
}

func legacyFlags() (*flag.FlagSet, legacyOpts) {
	fs := flag.NewFlagSet("legacy", flag.ContinueOnError)
	o := legacyOpts{
		fromEnv:     fs.Bool("from-env", false, "migrate provider credentials from this shell's environment variables (OPENAI_API_KEY, AWS_ACCESS_KEY_ID, …)"),
		litellm:     fs.String("litellm-config", "", "migrate a LiteLLM proxy config.yaml; its os.environ/NAME secrets are read from this shell's environment"),
		connections: fs.Bool("connections", false, "point old-style connections (those naming a provider type) at their provider"),
		force:       fs.Bool("force", false, "rollback: discard changes made after the migration"),
		asJSON:      fs.Bool("json", false, "print the report as JSON"),
	}
	return fs, o
}

// lookupEnv reads the operator's environment for the migration: never
// Switchyard's own settings.
func lookupEnv(getenv func(string) string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		if strings.HasPrefix(name, "SWITCHYARD_") {
			return "", false
		}
		v := getenv(name)
		return v, v != ""
	}
}

func legacyCmd(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string, getenv func(string) string, stdout io.Writer) error {
	fs, o := legacyFlags()
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return usageError{"legacy: " + err.Error()}
	}
	sub, rest := fs.Arg(0), fs.Args()
	if len(rest) > 0 {
		rest = rest[1:]
	}
	var src legacy.Sources
	switch sub {
	case "plan", "apply":
		if len(rest) > 0 {
			return usageError{fmt.Sprintf("legacy %s takes no arguments (got %q)", sub, rest)}
		}
		src.Connections = *o.connections
		if *o.fromEnv {
			src.Env = lookupEnv(getenv)
		}
		if *o.litellm != "" {
			b, err := os.ReadFile(*o.litellm)
			if err != nil {
				return err
			}
			src.LiteLLM = b
		}
		if src.Env != nil || src.LiteLLM != nil {
			src.Resolve = lookupEnv(getenv)
		}
		if !src.Connections && src.Env == nil && src.LiteLLM == nil {
			return usageError{"legacy " + sub + " needs a source: --from-env, --litellm-config FILE and/or --connections"}
		}
	case "rollback":
		if len(rest) > 1 {
			return usageError{"legacy rollback takes at most one migration id"}
		}
	case "status":
	default:
		return usageError{"legacy needs plan, apply, rollback [ID] or status"}
	}
	db, err := openForTransfer(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "plan":
		rep, err := legacy.Plan(ctx, db, src)
		if err != nil {
			return err
		}
		return printReport(stdout, rep, *o.asJSON, "plan only, nothing written: run legacy apply with the same sources to migrate")
	case "apply":
		res, err := legacy.Apply(ctx, db, src, legacy.Options{Applied: func(ctx context.Context, tx switchyard.Store, m *switchyard.LegacyMigration) error {
			return recordCLIChange(ctx, tx, "legacy_migrate", "legacy_migration", m.ID, "legacy migration applied", map[string]any{"sources": m.Sources})
		}})
		if err != nil {
			return err
		}
		if *o.asJSON {
			return json.NewEncoder(stdout).Encode(res)
		}
		return printReport(stdout, res.Report, false, fmt.Sprintf("applied as migration %s (%d change(s)); undo it with: switchyard legacy rollback %s", res.ID, len(res.Changes), res.ID))
	case "rollback":
		res, err := legacy.Rollback(ctx, db, fs.Arg(1), *o.force, legacy.Options{RolledBack: func(ctx context.Context, tx switchyard.Store, r *legacy.RollbackResult) error {
			return recordCLIChange(ctx, tx, "legacy_rollback", "legacy_migration", r.ID, "legacy migration rolled back", map[string]any{"restored": len(r.Restored), "overridden": r.Overridden})
		}})
		if err != nil {
			return err
		}
		for _, r := range res.Restored {
			fmt.Fprintln(stdout, "restored: "+r)
		}
		for _, r := range res.Overridden {
			fmt.Fprintln(stdout, "discarded (forced): "+r)
		}
		fmt.Fprintf(stdout, "migration %s rolled back\n", res.ID)
		return nil
	default:
		page, err := db.ListLegacyMigrations(ctx, switchyard.ListOptions{Limit: switchyard.MaxPageSize})
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tAPPLIED\tSOURCES\tCHANGES\tSTATE")
		for _, m := range page.Items {
			var changes []json.RawMessage
			_ = json.Unmarshal(m.Changes, &changes)
			state := "applied"
			if m.RolledBackAt != nil {
				state = "rolled back " + m.RolledBackAt.UTC().Format("2006-01-02 15:04:05Z")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", m.ID, m.CreatedAt.UTC().Format("2006-01-02 15:04:05Z"), strings.Join(m.Sources, ","), len(changes), state)
		}
		return tw.Flush()
	}
}

func printReport(w io.Writer, rep *legacy.Report, asJSON bool, footer string) error {
	if asJSON {
		return json.NewEncoder(w).Encode(rep)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tSOURCE\tITEM\tTARGET\tDETAIL")
	for _, it := range rep.Items {
		detail := strings.Join(it.Changes, "; ")
		if it.Reason != "" {
			detail = it.Reason
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", it.Status, it.Source, it.Key, it.Target, detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d maps cleanly, %d maps with changes, %d cannot map; %s\n", rep.Summary[legacy.MapsCleanly],
		rep.Summary[legacy.MapsWithChanges], rep.Summary[legacy.CannotMap], footer)
	return nil
}
