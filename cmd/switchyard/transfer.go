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
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/auth"
	"github.com/switchyard/switchyard/catalog"
	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/sqlstore"
	"github.com/switchyard/switchyard/transfer"
)

// passphraseEnv holds the export/import passphrase when no file is given:
// never a flag, which would land in the shell's history.
const passphraseEnv = "SWITCHYARD_EXPORT_PASSPHRASE"

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// splitFlags separates the flags a command defines in fs from the
// settings flags config.Load reads, so that both may be mixed.
func splitFlags(fs *flag.FlagSet, args []string) (mine, rest []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		name := strings.TrimLeft(a, "-")
		name, _, hasValue := strings.Cut(name, "=")
		f := fs.Lookup(name)
		if !strings.HasPrefix(a, "-") || f == nil {
			rest = append(rest, a)
			continue
		}
		mine = append(mine, a)
		if _, isBool := f.Value.(interface{ IsBoolFlag() bool }); !hasValue && !isBool && i+1 < len(args) {
			i++
			mine = append(mine, args[i])
		}
	}
	return mine, rest
}

func passphrase(file string, getenv func(string) string) (string, error) {
	if file == "" {
		return getenv(passphraseEnv), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("reading the passphrase: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// openForTransfer opens the database with its keyring, migrated and with
// the built-in catalog seeded, as serve would find it: an import into an
// installation that never ran finds the system providers it may name.
func openForTransfer(ctx context.Context, cfg *config.Config, log *slog.Logger) (*sqlstore.DB, error) {
	db, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	if _, err := db.MigrateUp(ctx); err != nil {
		db.Close()
		return nil, err
	}
	mk, err := loadMasterKey(cfg, log)
	if err != nil {
		db.Close()
		return nil, err
	}
	if _, err := db.LoadKeyring(ctx, mk); err != nil {
		db.Close()
		return nil, err
	}
	cat, err := catalog.Load()
	if err == nil {
		_, err = cat.Seed(ctx, db)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("seed the built-in catalog: %w", err)
	}
	return db, nil
}

func exportFlags() (*flag.FlagSet, *string, *string, *string, *multi, *multi, *bool) {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	out := fs.String("o", "", "write the document to this file (mode 0600) instead of standard output")
	format := fs.String("format", "json", "json or yaml")
	passFile := fs.String("passphrase-file", "", "seal the secrets with the passphrase in this file (or set "+passphraseEnv+")")
	var providers, templates multi
	fs.Var(&providers, "provider", "only this provider (slug) and its connections; repeat for several")
	fs.Var(&templates, "template", "only this custom template (slug); repeat for several")
	schema := fs.Bool("schema", false, "print the document's JSON Schema and exit")
	return fs, out, format, passFile, &providers, &templates, schema
}

func importFlags() (*flag.FlagSet, *bool, *string, *string) {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	apply := fs.Bool("apply", false, "apply the plan (without it, a dry run that writes nothing)")
	onConflict := fs.String("on-conflict", "skip", "what to do with an item that exists and differs: skip, overwrite or rename")
	passFile := fs.String("passphrase-file", "", "open sealed secrets with the passphrase in this file (or set "+passphraseEnv+")")
	return fs, apply, onConflict, passFile
}

func exportCmd(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string, getenv func(string) string, stdout io.Writer) error {
	fs, out, format, passFile, providers, templates, schema := exportFlags()
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return usageError{"export: " + err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("export takes no arguments (got %q); use -o FILE to write to a file", fs.Args())}
	}
	if *schema {
		_, err := stdout.Write(transfer.Schema())
		return err
	}
	pass, err := passphrase(*passFile, getenv)
	if err != nil {
		return err
	}
	db, err := openForTransfer(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	d, err := transfer.Export(ctx, db, transfer.ExportOptions{Providers: *providers, Templates: *templates, Passphrase: pass})
	if err != nil {
		return err
	}
	b, err := d.Encode(*format)
	if err != nil {
		return usageError{err.Error()}
	}
	if *out == "" {
		_, err = stdout.Write(b)
		return err
	}
	if err := os.WriteFile(*out, b, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %d provider(s), %d template(s), %d connection(s) to %s; secrets %s\n",
		len(d.Providers), len(d.Templates), len(d.Connections), *out, d.Secrets)
	return nil
}

func importCmd(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string, getenv func(string) string, stdout io.Writer) error {
	fs, apply, onConflict, passFile := importFlags()
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return usageError{"import: " + err.Error()}
	}
	if fs.NArg() != 1 {
		return usageError{"import needs the document's file name (- for standard input)"}
	}
	var raw []byte
	var err error
	if name := fs.Arg(0); name == "-" {
		raw, err = io.ReadAll(io.LimitReader(os.Stdin, 256<<20))
	} else {
		raw, err = os.ReadFile(name)
	}
	if err != nil {
		return err
	}
	d, err := transfer.Decode(raw)
	if err != nil {
		return err
	}
	pass, err := passphrase(*passFile, getenv)
	if err != nil {
		return err
	}
	db, err := openForTransfer(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	plan, err := transfer.Import(ctx, db, d, transfer.ImportOptions{DryRun: !*apply, OnConflict: *onConflict, Passphrase: pass,
		NewKey: func() (string, string, string, error) { return auth.NewToken(auth.PrefixGatewayKey) },
		Applied: func(ctx context.Context, tx switchyard.Store, plan *transfer.Plan) error {
			return recordCLIChange(ctx, tx, "import", "configuration", "", "configuration imported",
				map[string]any{"on_conflict": plan.OnConflict, "secrets": plan.Secrets, "summary": plan.Summary})
		}})
	if err != nil {
		return err
	}
	return printPlan(stdout, plan)
}

// recordCLIChange, inside the transaction of a change made from the
// command line, writes its audit entry and tells running servers (this
// replica's and others') to reload.
func recordCLIChange(ctx context.Context, tx switchyard.Store, action, resource, id, reason string, after any) error {
	raw, err := json.Marshal(after)
	if err != nil {
		return err
	}
	if err := tx.AppendAudit(ctx, &switchyard.AuditEntry{At: time.Now().UTC(), ActorName: "switchyard " + action + " (command line)",
		Action: action, ResourceType: resource, ResourceID: id, After: raw}); err != nil {
		return err
	}
	if b, ok := tx.(interface {
		BumpChangeVersion(context.Context, string) (int64, error)
	}); ok {
		_, err := b.BumpChangeVersion(ctx, reason)
		return err
	}
	return nil
}

func printPlan(w io.Writer, plan *transfer.Plan) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACTION\tKIND\tITEM\tDETAIL")
	for _, it := range plan.Items {
		detail := it.Note
		if len(it.Changes) > 0 {
			detail = strings.TrimSpace("changes: " + strings.Join(it.Changes, ", ") + "  " + detail)
		}
		if it.RenamedTo != "" {
			detail = strings.TrimSpace("as " + it.RenamedTo + "  " + detail)
		}
		if it.GatewayKey != "" {
			detail += "  gateway key (shown once): " + it.GatewayKey
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", it.Action, it.Kind, it.Key, detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var parts []string
	for _, a := range []string{transfer.ActionCreate, transfer.ActionUpdate, transfer.ActionRename, transfer.ActionUnchanged, transfer.ActionSkip} {
		if n := plan.Summary[a]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, a))
		}
	}
	verb := "dry run (nothing written; add --apply to apply)"
	if !plan.DryRun {
		verb = "applied"
	}
	fmt.Fprintf(w, "%s: %s; secrets %s\n", verb, strings.Join(parts, ", "), plan.Secrets)
	return nil
}
