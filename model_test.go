package switchyard_test

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard/switchyard"
)

func validModel() *switchyard.Model {
	return &switchyard.Model{
		ProviderID:  "p1",
		UpstreamID:  "gpt-4o-mini",
		DisplayName: "GPT-4o mini",
		Aliases:     []string{"mini", "gpt-4o-mini-2024-07-18", "team:fast", "v1.2_x"},
		Enabled:     true,
		Status:      switchyard.ModelAvailable,
		Capabilities: switchyard.Capabilities{ContextWindow: 128000, MaxOutputTokens: 16384,
			InputModalities: []string{"text", "image"}, OutputModalities: []string{"text"}, Tools: true, Streaming: true},
		Pricing: switchyard.Pricing{InputPerMTok: 0.15, OutputPerMTok: 0.6},
		Sources: map[string]switchyard.Source{"context_window": switchyard.SourceCatalog, "pricing": switchyard.SourceOverride},
	}
}

func TestModelValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(m *switchyard.Model)
		want   []problem
	}{
		{"valid", func(*switchyard.Model) {}, nil},
		{"upstream id with slashes", func(m *switchyard.Model) { m.UpstreamID = "accounts/fireworks/models/llama-v3" }, nil},
		{"upstream id required", func(m *switchyard.Model) { m.UpstreamID = "" }, []problem{{"upstream_id", "invalid_model"}}},
		{"upstream id 256 bytes", func(m *switchyard.Model) { m.UpstreamID = strings.Repeat("m", 256) }, nil},
		{"upstream id too long", func(m *switchyard.Model) { m.UpstreamID = strings.Repeat("m", 257) }, []problem{{"upstream_id", "invalid_model"}}},
		{"upstream id with space", func(m *switchyard.Model) { m.UpstreamID = "gpt 4o" }, []problem{{"upstream_id", "invalid_model"}}},
		{"upstream id with control character", func(m *switchyard.Model) { m.UpstreamID = "gpt\x7f" }, []problem{{"upstream_id", "invalid_model"}}},
		{"display name too long", func(m *switchyard.Model) { m.DisplayName = strings.Repeat("d", 201) }, []problem{{"display_name", "too_long"}}},
		{"display name may be empty", func(m *switchyard.Model) { m.DisplayName = "" }, nil},

		{"alias with slash", func(m *switchyard.Model) { m.Aliases = []string{"ok", "openai/gpt-4o"} }, []problem{{"aliases[1]", "invalid_alias"}}},
		{"alias empty", func(m *switchyard.Model) { m.Aliases = []string{""} }, []problem{{"aliases[0]", "invalid_alias"}}},
		{"alias starting with a dot", func(m *switchyard.Model) { m.Aliases = []string{".hidden"} }, []problem{{"aliases[0]", "invalid_alias"}}},
		{"alias with space", func(m *switchyard.Model) { m.Aliases = []string{"my model"} }, []problem{{"aliases[0]", "invalid_alias"}}},
		{"alias 128 characters", func(m *switchyard.Model) { m.Aliases = []string{strings.Repeat("a", 128)} }, nil},
		{"alias 129 characters", func(m *switchyard.Model) { m.Aliases = []string{strings.Repeat("a", 129)} }, []problem{{"aliases[0]", "invalid_alias"}}},
		{"alias listed twice", func(m *switchyard.Model) { m.Aliases = []string{"fast", "cheap", "fast"} }, []problem{{"aliases[2]", "duplicate"}}},
		{"bad alias listed twice", func(m *switchyard.Model) { m.Aliases = []string{"a/b", "a/b"} },
			[]problem{{"aliases[0]", "invalid_alias"}, {"aliases[1]", "invalid_alias"}}},

		{"status empty", func(m *switchyard.Model) { m.Status = "" }, nil},
		{"status deprecated", func(m *switchyard.Model) { m.Status = switchyard.ModelDeprecated }, nil},
		{"status unknown value", func(m *switchyard.Model) { m.Status = "retired" }, []problem{{"status", "invalid_enum"}}},

		{"context window negative", func(m *switchyard.Model) { m.Capabilities.ContextWindow = -1 },
			[]problem{{"capabilities.context_window", "out_of_range"}}},
		{"context window too large", func(m *switchyard.Model) { m.Capabilities.ContextWindow = 100_000_001 },
			[]problem{{"capabilities.context_window", "out_of_range"}}},
		{"context window at the bound", func(m *switchyard.Model) { m.Capabilities.ContextWindow = 100_000_000 }, nil},
		{"max output negative", func(m *switchyard.Model) { m.Capabilities.MaxOutputTokens = -1 },
			[]problem{{"capabilities.max_output_tokens", "out_of_range"}}},
		{"max output above context", func(m *switchyard.Model) { m.Capabilities.MaxOutputTokens = 128001 },
			[]problem{{"capabilities.max_output_tokens", "exceeds_context"}}},
		{"max output equal to context", func(m *switchyard.Model) { m.Capabilities.MaxOutputTokens = 128000 }, nil},
		{"max output with unknown context", func(m *switchyard.Model) {
			m.Capabilities.ContextWindow, m.Capabilities.MaxOutputTokens = 0, 999999
		}, nil},
		{"unknown modalities", func(m *switchyard.Model) {
			m.Capabilities.InputModalities = []string{"text", "smell"}
			m.Capabilities.OutputModalities = []string{"Text"}
		}, []problem{{"capabilities.input_modalities[1]", "invalid_enum"}, {"capabilities.output_modalities[0]", "invalid_enum"}}},
		{"every known modality", func(m *switchyard.Model) {
			m.Capabilities.InputModalities = slices.Clone(switchyard.Modalities)
			m.Capabilities.OutputModalities = slices.Clone(switchyard.Modalities)
		}, nil},

		{"free model", func(m *switchyard.Model) { m.Pricing = switchyard.Pricing{} }, nil},
		{"negative prices", func(m *switchyard.Model) {
			m.Pricing = switchyard.Pricing{InputPerMTok: -1, OutputPerMTok: -0.01, CacheReadPerMTok: -2, CacheWritePerMTok: -3}
		}, []problem{{"pricing.input_per_mtok", "out_of_range"}, {"pricing.output_per_mtok", "out_of_range"},
			{"pricing.cache_read_per_mtok", "out_of_range"}, {"pricing.cache_write_per_mtok", "out_of_range"}}},
		{"NaN price", func(m *switchyard.Model) { m.Pricing.OutputPerMTok = math.NaN() }, []problem{{"pricing.output_per_mtok", "out_of_range"}}},
		{"infinite price", func(m *switchyard.Model) { m.Pricing.InputPerMTok = math.Inf(1) }, []problem{{"pricing.input_per_mtok", "out_of_range"}}},
		{"price above a million", func(m *switchyard.Model) { m.Pricing.CacheReadPerMTok = 1e6 + 1 }, []problem{{"pricing.cache_read_per_mtok", "out_of_range"}}},

		{"sources every field and source", func(m *switchyard.Model) {
			m.Sources = map[string]switchyard.Source{}
			for i, f := range switchyard.CapabilityFields {
				m.Sources[f] = []switchyard.Source{switchyard.SourceDefault, switchyard.SourceCatalog, switchyard.SourceProvider, switchyard.SourceOverride}[i%4]
			}
		}, nil},
		{"source for an unknown field", func(m *switchyard.Model) { m.Sources["temperature"] = switchyard.SourceOverride },
			[]problem{{"sources.temperature", "unknown_field"}}},
		{"unknown source", func(m *switchyard.Model) { m.Sources["tools"] = "admin" }, []problem{{"sources.tools", "invalid_enum"}}},
		{"unknown field and source", func(m *switchyard.Model) { m.Sources["speed"] = "guess" },
			[]problem{{"sources.speed", "unknown_field"}, {"sources.speed", "invalid_enum"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validModel()
			tt.mutate(m)
			wantProblems(t, m.Validate(), tt.want...)
		})
	}
}

func TestModelValidateReportsEveryProblemAtOnce(t *testing.T) {
	m := &switchyard.Model{
		UpstreamID: "",
		Aliases:    []string{"x/y", "ok", "ok"},
		Status:     "gone",
		Capabilities: switchyard.Capabilities{ContextWindow: 100, MaxOutputTokens: 200,
			InputModalities: []string{"telepathy"}},
		Pricing: switchyard.Pricing{InputPerMTok: math.NaN()},
		Sources: map[string]switchyard.Source{"vibes": switchyard.SourceCatalog},
	}
	wantProblems(t, m.Validate(),
		problem{"upstream_id", "invalid_model"},
		problem{"aliases[0]", "invalid_alias"},
		problem{"aliases[2]", "duplicate"},
		problem{"status", "invalid_enum"},
		problem{"capabilities.max_output_tokens", "exceeds_context"},
		problem{"capabilities.input_modalities[0]", "invalid_enum"},
		problem{"pricing.input_per_mtok", "out_of_range"},
		problem{"sources.vibes", "unknown_field"},
	)
}

func TestSourceRank(t *testing.T) {
	order := []switchyard.Source{"", switchyard.SourceDefault, switchyard.SourceCatalog, switchyard.SourceProvider, switchyard.SourceOverride}
	want := []int{0, 0, 1, 2, 3}
	for i, s := range order {
		if got := s.Rank(); got != want[i] {
			t.Errorf("Source(%q).Rank() = %d, want %d", s, got, want[i])
		}
	}
}

func TestModelApplyCapabilitiesPrecedence(t *testing.T) {
	const (
		def      = switchyard.SourceDefault
		catalog  = switchyard.SourceCatalog
		provider = switchyard.SourceProvider
		override = switchyard.SourceOverride
	)
	sources := []switchyard.Source{def, catalog, provider, override}
	for _, current := range sources {
		for _, incoming := range sources {
			t.Run(string(current)+" then "+string(incoming), func(t *testing.T) {
				m := &switchyard.Model{UpstreamID: "m"}
				if got := m.ApplyCapabilities(switchyard.Capabilities{ContextWindow: 1000}, switchyard.Pricing{}, []string{"context_window"}, current); !slices.Equal(got, []string{"context_window"}) {
					t.Fatalf("first apply changed %v, want [context_window]", got)
				}
				changed := m.ApplyCapabilities(switchyard.Capabilities{ContextWindow: 2000}, switchyard.Pricing{}, []string{"context_window"}, incoming)
				wins := incoming.Rank() >= current.Rank()
				wantCtx, wantSrc, wantChanged := 1000, current, []string(nil)
				if wins {
					wantCtx, wantSrc, wantChanged = 2000, incoming, []string{"context_window"}
				}
				if m.Capabilities.ContextWindow != wantCtx || m.SourceOf("context_window") != wantSrc {
					t.Errorf("context_window = %d from %q, want %d from %q", m.Capabilities.ContextWindow, m.SourceOf("context_window"), wantCtx, wantSrc)
				}
				if !slices.Equal(changed, wantChanged) {
					t.Errorf("changed = %v, want %v", changed, wantChanged)
				}
			})
		}
	}
}

func TestModelApplyCapabilities(t *testing.T) {
	catalogCaps := switchyard.Capabilities{ContextWindow: 8000, MaxOutputTokens: 1000,
		InputModalities: []string{"text"}, OutputModalities: []string{"text"}, Tools: true, Streaming: true}
	catalogPrice := switchyard.Pricing{InputPerMTok: 1, OutputPerMTok: 2}

	t.Run("a new model takes every field", func(t *testing.T) {
		m := &switchyard.Model{UpstreamID: "m"}
		changed := m.ApplyCapabilities(catalogCaps, catalogPrice, switchyard.CapabilityFields, switchyard.SourceCatalog)
		if !slices.Equal(changed, switchyard.CapabilityFields) {
			t.Errorf("changed = %v, want every field", changed)
		}
		if m.Capabilities.ContextWindow != 8000 || !m.Capabilities.Tools || m.Pricing != catalogPrice {
			t.Errorf("model = %+v %+v", m.Capabilities, m.Pricing)
		}
		for _, f := range switchyard.CapabilityFields {
			if m.SourceOf(f) != switchyard.SourceCatalog {
				t.Errorf("source of %s = %q, want catalog", f, m.SourceOf(f))
			}
		}
		if err := m.Validate(); err != nil {
			t.Errorf("model no longer validates: %v", err)
		}
	})

	t.Run("an override survives a provider sync and a catalog update", func(t *testing.T) {
		m := &switchyard.Model{UpstreamID: "m"}
		m.ApplyCapabilities(catalogCaps, catalogPrice, switchyard.CapabilityFields, switchyard.SourceCatalog)
		m.ApplyCapabilities(switchyard.Capabilities{ContextWindow: 32000}, switchyard.Pricing{InputPerMTok: 9}, []string{"context_window", "pricing"}, switchyard.SourceOverride)

		changed := m.ApplyCapabilities(switchyard.Capabilities{ContextWindow: 4000, MaxOutputTokens: 2000}, switchyard.Pricing{InputPerMTok: 3},
			[]string{"context_window", "max_output_tokens", "pricing"}, switchyard.SourceProvider)
		if !slices.Equal(changed, []string{"max_output_tokens"}) {
			t.Errorf("provider sync changed %v, want [max_output_tokens]", changed)
		}
		changed = m.ApplyCapabilities(switchyard.Capabilities{ContextWindow: 16000, MaxOutputTokens: 500}, switchyard.Pricing{InputPerMTok: 5},
			switchyard.CapabilityFields, switchyard.SourceCatalog)
		if slices.Contains(changed, "context_window") || slices.Contains(changed, "pricing") || slices.Contains(changed, "max_output_tokens") {
			t.Errorf("catalog update changed %v, which includes an override or a provider value", changed)
		}
		if m.Capabilities.ContextWindow != 32000 || m.Pricing.InputPerMTok != 9 {
			t.Errorf("override lost: context %d, input price %v", m.Capabilities.ContextWindow, m.Pricing.InputPerMTok)
		}
		if m.Capabilities.MaxOutputTokens != 2000 || m.SourceOf("max_output_tokens") != switchyard.SourceProvider {
			t.Errorf("provider value lost: max output %d from %q", m.Capabilities.MaxOutputTokens, m.SourceOf("max_output_tokens"))
		}
		if m.SourceOf("context_window") != switchyard.SourceOverride || m.SourceOf("pricing") != switchyard.SourceOverride {
			t.Errorf("sources = %v", m.Sources)
		}
	})

	t.Run("a later override replaces an override", func(t *testing.T) {
		m := &switchyard.Model{UpstreamID: "m"}
		m.ApplyCapabilities(switchyard.Capabilities{Vision: true}, switchyard.Pricing{}, []string{"vision"}, switchyard.SourceOverride)
		changed := m.ApplyCapabilities(switchyard.Capabilities{Vision: false}, switchyard.Pricing{}, []string{"vision"}, switchyard.SourceOverride)
		if !slices.Equal(changed, []string{"vision"}) || m.Capabilities.Vision {
			t.Errorf("changed = %v, vision = %v", changed, m.Capabilities.Vision)
		}
	})

	t.Run("only the named fields are applied", func(t *testing.T) {
		m := &switchyard.Model{UpstreamID: "m"}
		changed := m.ApplyCapabilities(catalogCaps, catalogPrice, []string{"tools"}, switchyard.SourceProvider)
		if !slices.Equal(changed, []string{"tools"}) {
			t.Errorf("changed = %v", changed)
		}
		if m.Capabilities.ContextWindow != 0 || m.Pricing != (switchyard.Pricing{}) || !m.Capabilities.Tools {
			t.Errorf("model = %+v %+v", m.Capabilities, m.Pricing)
		}
		if _, ok := m.Sources["context_window"]; ok {
			t.Errorf("sources = %v, want only tools", m.Sources)
		}
	})

	t.Run("unknown field names are ignored", func(t *testing.T) {
		m := &switchyard.Model{UpstreamID: "m"}
		changed := m.ApplyCapabilities(catalogCaps, catalogPrice, []string{"temperature", "tools", ""}, switchyard.SourceCatalog)
		if !slices.Equal(changed, []string{"tools"}) {
			t.Errorf("changed = %v, want [tools]", changed)
		}
		if _, ok := m.Sources["temperature"]; ok {
			t.Errorf("an unknown field got a source: %v", m.Sources)
		}
		if err := m.Validate(); err != nil {
			t.Errorf("model no longer validates: %v", err)
		}
	})

	t.Run("re-applying the same values changes nothing", func(t *testing.T) {
		m := &switchyard.Model{UpstreamID: "m"}
		m.ApplyCapabilities(catalogCaps, catalogPrice, switchyard.CapabilityFields, switchyard.SourceCatalog)
		if changed := m.ApplyCapabilities(catalogCaps, catalogPrice, switchyard.CapabilityFields, switchyard.SourceCatalog); len(changed) != 0 {
			t.Errorf("changed = %v, want nothing: neither a value nor a source changed", changed)
		}
	})

	t.Run("a new source with the same value is a change", func(t *testing.T) {
		m := &switchyard.Model{UpstreamID: "m"}
		m.ApplyCapabilities(catalogCaps, catalogPrice, []string{"context_window"}, switchyard.SourceCatalog)
		changed := m.ApplyCapabilities(catalogCaps, catalogPrice, []string{"context_window"}, switchyard.SourceProvider)
		if !slices.Equal(changed, []string{"context_window"}) || m.SourceOf("context_window") != switchyard.SourceProvider {
			t.Errorf("changed = %v, source %q", changed, m.SourceOf("context_window"))
		}
	})

	t.Run("slices are copied", func(t *testing.T) {
		in := []string{"text", "image"}
		out := []string{"text"}
		m := &switchyard.Model{UpstreamID: "m"}
		m.ApplyCapabilities(switchyard.Capabilities{InputModalities: in, OutputModalities: out}, switchyard.Pricing{},
			[]string{"input_modalities", "output_modalities"}, switchyard.SourceProvider)
		in[0], out[0] = "audio", "video"
		if !slices.Equal(m.Capabilities.InputModalities, []string{"text", "image"}) || !slices.Equal(m.Capabilities.OutputModalities, []string{"text"}) {
			t.Errorf("modalities = %v / %v, changed with the source", m.Capabilities.InputModalities, m.Capabilities.OutputModalities)
		}
	})

	t.Run("a nil sources map is created", func(t *testing.T) {
		m := &switchyard.Model{UpstreamID: "m"}
		m.ApplyCapabilities(catalogCaps, catalogPrice, []string{"streaming"}, switchyard.SourceDefault)
		if m.Sources == nil || m.SourceOf("streaming") != switchyard.SourceDefault {
			t.Errorf("sources = %v", m.Sources)
		}
	})
}

func TestModelSourceOfDefaults(t *testing.T) {
	m := &switchyard.Model{}
	if got := m.SourceOf("tools"); got != switchyard.SourceDefault {
		t.Errorf("SourceOf on an empty model = %q, want default", got)
	}
}

func TestDefaultCapabilitiesValidate(t *testing.T) {
	c := switchyard.DefaultCapabilities()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !c.Streaming || !slices.Equal(c.InputModalities, []string{"text"}) || !slices.Equal(c.OutputModalities, []string{"text"}) {
		t.Errorf("DefaultCapabilities() = %+v", c)
	}
	c.InputModalities[0] = "image"
	if switchyard.DefaultCapabilities().InputModalities[0] != "text" {
		t.Error("DefaultCapabilities shares its slices between calls")
	}
}
