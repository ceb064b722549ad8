// Package legacy migrates hardcoded configurations into Switchyard:
// old-style connections that name a provider type, provider credentials in
// environment variables, and a LiteLLM proxy config.yaml. Plan reports, per
// item, whether it maps cleanly, maps with changes, or cannot map; Apply
// performs the plan in one transaction and records the migration with the
// state before every change it made; Rollback restores that state.
//
// Environment references never resolve here on their own: the caller passes
// Sources.Env and Sources.Resolve, which only the command line does, from
// the operator's own environment, and Resolve is asked only for secret
// fields. The server passes neither, so nothing it holds in its
// environment (the master key, the database URL) can reach a provider.
package legacy

import (
	"context"
	"slices"
	"strings"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/transfer"
)

// Store is what a migration reads and writes.
type Store interface {
	transfer.TxStore
	switchyard.LegacyStore
}

// Source names.
const (
	SourceConnections = "connections"
	SourceEnv         = "env"
	SourceLiteLLM     = "litellm"
)

// Statuses of a report item.
const (
	MapsCleanly     = "maps cleanly"
	MapsWithChanges = "maps with changes"
	CannotMap       = "cannot map"
)

// Sources chooses what to migrate.
type Sources struct {
	// Connections migrates old-style connections (those naming a provider
	// type) to the matching provider.
	Connections bool
	// Env, when set, reads provider credentials from environment variables
	// (OPENAI_API_KEY, AZURE_OPENAI_API_KEY with AZURE_OPENAI_ENDPOINT, AWS_*,
	// …: the catalog templates' env_vars). Only the command line sets it,
	// from the operator's environment.
	Env func(name string) (string, bool)
	// LiteLLM is a LiteLLM proxy config.yaml; nil leaves that source out.
	LiteLLM []byte
	// Resolve looks up an "os.environ/NAME" reference of a secret field (an
	// API key, an AWS secret, a service account). Nil, as in the server,
	// leaves every reference unresolved: the provider is created disabled
	// and the report says which secret to set. Other fields (URLs, versions,
	// regions) are never resolved.
	Resolve func(name string) (string, bool)
}

func (s Sources) names() []string {
	var out []string
	if s.Connections {
		out = append(out, SourceConnections)
	}
	if s.Env != nil {
		out = append(out, SourceEnv)
	}
	if s.LiteLLM != nil {
		out = append(out, SourceLiteLLM)
	}
	return out
}

// Report is the compatibility report of a migration, item by item.
type Report struct {
	Sources []string       `json:"sources"`
	Summary map[string]int `json:"summary"`
	Items   []Item         `json:"items"`
}

// Item is one thing found in a source and what it becomes.
type Item struct {
	Source string `json:"source"`
	// Key names it: a connection "owner/name", the environment variables
	// read, a LiteLLM model_name.
	Key  string `json:"key"`
	Path string `json:"path,omitempty"`
	// Status is "maps cleanly", "maps with changes" or "cannot map".
	Status string `json:"status"`
	// Target is what it becomes: a provider slug, "provider/model".
	Target string `json:"target,omitempty"`
	// Changes says how the result differs from the old behaviour, or what
	// is left to do.
	Changes []string `json:"changes,omitempty"`
	// Reason says why it cannot map and what to do instead.
	Reason string `json:"reason,omitempty"`
}

func (r *Report) add(it Item) {
	switch {
	case it.Reason != "":
		it.Status = CannotMap
	case len(it.Changes) > 0:
		it.Status = MapsWithChanges
	default:
		it.Status = MapsCleanly
	}
	r.Items = append(r.Items, it)
	r.Summary[it.Status]++
}

// Plan reports what a migration from src would do, writing nothing.
func Plan(ctx context.Context, s transfer.Store, src Sources) (*Report, error) {
	pl, err := plan(ctx, s, src)
	if err != nil {
		return nil, err
	}
	return pl.report, nil
}

func plan(ctx context.Context, s transfer.Store, src Sources) (*planner, error) {
	if len(src.names()) == 0 {
		return nil, switchyard.Errorf(switchyard.EINVALID, "choose at least one source: old-style connections, environment variables or a LiteLLM config")
	}
	pl := &planner{ctx: ctx, s: s, src: src, report: &Report{Sources: src.names(), Summary: map[string]int{}, Items: []Item{}},
		templates: map[string]*switchyard.ProviderTemplate{}, slugs: map[string]bool{}}
	if err := pl.loadNames(); err != nil {
		return nil, err
	}
	if src.Env != nil {
		if err := pl.env(); err != nil {
			return nil, err
		}
	}
	if src.LiteLLM != nil {
		cfg, err := ParseLiteLLM(src.LiteLLM)
		if err != nil {
			return nil, err
		}
		if err := pl.litellm(cfg); err != nil {
			return nil, err
		}
	}
	if src.Connections {
		if err := pl.connections(); err != nil {
			return nil, err
		}
	}
	return pl, nil
}

// secretRef reads a secret field: a literal value, or an os.environ/NAME
// reference resolved through Sources.Resolve. missing explains why a value
// is not at hand.
func (pl *planner) secretRef(v string) (value, missing string) {
	name, ok := strings.CutPrefix(v, "os.environ/")
	if !ok {
		return v, ""
	}
	switch {
	case pl.src.Resolve == nil:
		return "", "the secret " + v + " is not resolved by the server: set it after the migration"
	case ownSetting(name):
		return "", v + " names one of Switchyard's own settings, which is never read as a provider secret: set the secret after the migration"
	}
	if got, ok := pl.src.Resolve(name); ok && got != "" {
		return got, ""
	}
	return "", name + " is not set in your environment: set the secret after the migration"
}

// ownSetting reports the environment variables that hold Switchyard's own
// secrets and connection strings.
func ownSetting(name string) bool {
	return strings.HasPrefix(name, "SWITCHYARD_") || slices.Contains([]string{"DATABASE_URL", "PGPASSWORD"}, name)
}
