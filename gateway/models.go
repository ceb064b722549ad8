package gateway

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/registry"
)

// modelEntry is a model in the list, in the shape OpenAI's list has plus
// the fields OpenRouter's made common.
type modelEntry struct {
	ID                  string       `json:"id"`
	Object              string       `json:"object"`
	Created             int64        `json:"created"`
	OwnedBy             string       `json:"owned_by"`
	Name                string       `json:"name"`
	Aliases             []string     `json:"aliases"`
	ContextLength       int          `json:"context_length"`
	Architecture        architecture `json:"architecture"`
	Pricing             modelPricing `json:"pricing"`
	SupportedParameters []string     `json:"supported_parameters"`
	TopProvider         topProvider  `json:"top_provider"`
	Providers           []string     `json:"providers"`
	Status              string       `json:"status"`
}

type architecture struct {
	InputModalities  []string `json:"input_modalities"`
	OutputModalities []string `json:"output_modalities"`
}

// modelPricing is in US dollars per token, as strings, as OpenRouter does.
type modelPricing struct {
	Prompt     string `json:"prompt"`
	Completion string `json:"completion"`
	CacheRead  string `json:"input_cache_read,omitempty"`
}

type topProvider struct {
	ContextLength       int `json:"context_length"`
	MaxCompletionTokens int `json:"max_completion_tokens"`
}

// models serves GET /v1/models: the models the calling connection may use,
// from healthy providers unless ?include_unhealthy=true.
func (g *Gateway) models(w http.ResponseWriter, r *http.Request) {
	snap := g.cfg.Registry.Current()
	conn, ok := g.authenticate(w, r, snap)
	if !ok {
		return
	}
	all := r.URL.Query().Get("include_unhealthy") == "true"
	index := map[string]int{}
	out := struct {
		Object string       `json:"object"`
		Data   []modelEntry `json:"data"`
	}{Object: "list", Data: []modelEntry{}}
	for _, rt := range snap.Routes() {
		if !allowed(snap, conn, rt, rt.Model.UpstreamID) && !anyAliasAllowed(snap, conn, rt) {
			continue
		}
		if !all && rt.Provider.EffectiveStatus() == switchyard.StatusDown {
			continue
		}
		if i, seen := index[rt.Model.UpstreamID]; seen {
			out.Data[i].Providers = append(out.Data[i].Providers, rt.Provider.Slug)
			continue
		}
		index[rt.Model.UpstreamID] = len(out.Data)
		out.Data = append(out.Data, entryOf(rt))
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func anyAliasAllowed(snap *registry.Snapshot, c *switchyard.Connection, rt registry.Route) bool {
	for _, a := range rt.Model.Aliases {
		if allowed(snap, c, rt, a) {
			return true
		}
	}
	return false
}

func entryOf(rt registry.Route) modelEntry {
	m, caps := rt.Model, rt.Model.Capabilities
	name := m.DisplayName
	if name == "" {
		name = m.UpstreamID
	}
	params := []string{"max_tokens", "temperature", "top_p", "stop", "user"}
	if caps.Streaming {
		params = append(params, "stream")
	}
	if caps.Tools {
		params = append(params, "tools", "tool_choice")
	}
	if caps.JSONMode {
		params = append(params, "response_format")
	}
	e := modelEntry{ID: m.UpstreamID, Object: "model", Created: m.CreatedAt.Unix(), OwnedBy: rt.Provider.Slug, Name: name,
		Aliases: orEmpty(m.Aliases), ContextLength: caps.ContextWindow,
		Architecture:        architecture{InputModalities: orEmpty(caps.InputModalities), OutputModalities: orEmpty(caps.OutputModalities)},
		Pricing:             modelPricing{Prompt: perToken(m.Pricing.InputPerMTok), Completion: perToken(m.Pricing.OutputPerMTok)},
		SupportedParameters: params, TopProvider: topProvider{ContextLength: caps.ContextWindow, MaxCompletionTokens: caps.MaxOutputTokens},
		Providers: []string{rt.Provider.Slug}, Status: string(rt.Provider.EffectiveStatus())}
	if m.Pricing.CacheReadPerMTok > 0 {
		e.Pricing.CacheRead = perToken(m.Pricing.CacheReadPerMTok)
	}
	return e
}

func perToken(perMTok float64) string {
	return strconv.FormatFloat(perMTok/1e6, 'g', -1, 64)
}

func orEmpty(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}
