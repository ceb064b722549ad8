// Command gen rewrites the models section of the built-in catalog templates
// from the models.dev provider data (MIT licence, see
// catalog/templates/MODELS-DEV-LICENSE.txt). Everything above the "models:"
// line of a template file is kept byte for byte; the models section is
// replaced with the curated selection below, in the selection's order.
// The output is deterministic: running it twice gives the same files.
//
// Run it with `go generate ./catalog/...`.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// selection says which models.dev provider a template takes its facts from,
// which models it lists (newest and most useful first), and whether the
// provider's API offers a JSON mode (response_format json_object / JSON
// schema, or Gemini's responseMimeType) for every chat model. Where it does
// not (Anthropic, Bedrock, routers, Cohere compatibility, Perplexity, local
// servers), json_mode comes from the data's structured_output flag alone.
type selection struct {
	source   string
	jsonMode bool
	models   []string
}

var selections = map[string]selection{
	"openai": {"openai", true, []string{
		"gpt-5.5", "gpt-5.5-pro", "gpt-5.4", "gpt-5.4-mini", "gpt-5.4-nano", "gpt-5.3-codex",
		"gpt-5-mini", "gpt-5-nano", "o3", "o4-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4o-mini",
		"text-embedding-3-large", "text-embedding-3-small"}},
	"azure-openai": {"azure", true, []string{
		"gpt-5.4", "gpt-5.4-mini", "gpt-5.4-nano", "gpt-5.3-chat", "gpt-5.3-codex", "gpt-5.2",
		"gpt-5-mini", "gpt-5-nano", "o4-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4o-mini",
		"text-embedding-3-large", "text-embedding-3-small"}},
	"anthropic": {"anthropic", false, []string{
		"claude-sonnet-5", "claude-opus-4-8", "claude-opus-4-7", "claude-sonnet-4-6", "claude-opus-4-6",
		"claude-opus-4-5", "claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"}},
	"bedrock": {"amazon-bedrock", false, []string{
		"anthropic.claude-opus-4-7", "anthropic.claude-sonnet-4-6", "anthropic.claude-opus-4-5-20251101-v1:0",
		"anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-haiku-4-5-20251001-v1:0",
		"amazon.nova-pro-v1:0", "amazon.nova-lite-v1:0", "amazon.nova-micro-v1:0",
		"meta.llama4-maverick-17b-instruct-v1:0", "mistral.mistral-large-3-675b-instruct",
		"deepseek.v3.2", "openai.gpt-oss-120b-1:0"}},
	"gemini": {"google", true, []string{
		"gemini-3.5-flash", "gemini-3.1-pro-preview", "gemini-3.1-flash-lite", "gemini-3-flash-preview",
		"gemini-2.5-flash-lite", "gemini-flash-latest", "gemini-flash-lite-latest", "gemma-4-31b-it", "gemini-embedding-001"}},
	"vertex": {"google-vertex", true, []string{
		"gemini-3.5-flash", "gemini-3.1-pro-preview", "gemini-3.1-flash-lite", "gemini-3-flash-preview",
		"gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-flash-latest", "gemini-embedding-001"}},
	"mistral": {"mistral", true, []string{
		"mistral-medium-2604", "mistral-small-2603", "mistral-large-2512", "mistral-medium-2508",
		"mistral-small-2506", "magistral-medium-latest", "magistral-small", "codestral-latest",
		"ministral-8b-latest", "mistral-embed"}},
	"groq": {"groq", true, []string{
		"openai/gpt-oss-20b", "qwen/qwen3-32b", "meta-llama/llama-4-scout-17b-16e-instruct",
		"llama-3.3-70b-versatile", "llama-3.1-8b-instant", "groq/compound", "groq/compound-mini"}},
	"deepseek": {"deepseek", true, []string{
		"deepseek-v4-pro", "deepseek-v4-flash", "deepseek-chat", "deepseek-reasoner"}},
	"xai": {"xai", true, []string{
		"grok-4.3", "grok-build-0.1", "grok-4.20-0309-reasoning", "grok-4.20-0309-non-reasoning",
		"grok-4.20-multi-agent-0309"}},
	"together": {"togetherai", true, []string{
		"moonshotai/Kimi-K2.7-Code", "MiniMaxAI/MiniMax-M3", "Qwen/Qwen3.7-Max",
		"Qwen/Qwen3.6-Plus", "deepseek-ai/DeepSeek-V4-Pro", "moonshotai/Kimi-K2.6", "google/gemma-4-31B-it",
		"openai/gpt-oss-120b", "openai/gpt-oss-20b", "meta-llama/Llama-3.3-70B-Instruct-Turbo"}},
	"fireworks": {"fireworks-ai", true, []string{
		"accounts/fireworks/models/glm-5p2", "accounts/fireworks/models/kimi-k2p7-code",
		"accounts/fireworks/models/minimax-m3", "accounts/fireworks/models/qwen3p7-plus",
		"accounts/fireworks/models/kimi-k2p6", "accounts/fireworks/models/minimax-m2p7",
		"accounts/fireworks/models/glm-5p1", "accounts/fireworks/models/gpt-oss-120b",
		"accounts/fireworks/models/gpt-oss-20b"}},
	"openrouter": {"openrouter", false, []string{
		"openai/gpt-5.5", "openai/gpt-5.4-mini", "anthropic/claude-opus-4.8", "anthropic/claude-sonnet-4.6",
		"anthropic/claude-haiku-4.5", "google/gemini-3.5-flash", "google/gemini-3.1-pro-preview",
		"x-ai/grok-4.3", "deepseek/deepseek-v4-pro", "deepseek/deepseek-v4-flash",
		"moonshotai/kimi-k2.6", "qwen/qwen3.6-plus", "mistralai/mistral-medium-3-5",
		"meta-llama/llama-4-maverick"}},
	"cohere": {"cohere", false, []string{
		"command-a-reasoning-08-2025", "command-a-vision-07-2025", "command-a-03-2025",
		"command-a-translate-08-2025", "command-r7b-12-2024", "command-r-plus-08-2024", "command-r-08-2024"}},
	"perplexity": {"perplexity", false, []string{
		"sonar-pro", "sonar", "sonar-reasoning-pro", "sonar-deep-research"}},
	"cerebras": {"cerebras", true, []string{"zai-glm-4.7"}},
	"lmstudio": {"lmstudio", false, []string{
		"openai/gpt-oss-20b", "qwen/qwen3-30b-a3b-2507", "qwen/qwen3-coder-30b"}},
}

var modalities = []string{"text", "image", "audio", "video", "pdf"}

func main() {
	ref := flag.String("ref", "", "models.dev providers JSON")
	dir := flag.String("dir", "templates", "template directory")
	flag.Parse()
	if err := run(*ref, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(ref, dir string) error {
	data, err := os.ReadFile(ref)
	if err != nil {
		return err
	}
	var providers map[string]struct {
		Models map[string]map[string]any `json:"models"`
	}
	if err := json.Unmarshal(data, &providers); err != nil {
		return err
	}
	lookup := func(provider, id string) (map[string]any, bool) {
		p, ok := providers[provider]
		if !ok {
			return nil, false
		}
		m, ok := p.Models[id]
		return m, ok
	}
	slugs := make([]string, 0, len(selections))
	for s := range selections {
		slugs = append(slugs, s)
	}
	slices.Sort(slugs)
	var errs []error
	for _, slug := range slugs {
		sel := selections[slug]
		var b strings.Builder
		b.WriteString("models: # generated by catalog/internal/gen from the models.dev data (MIT); edit the selection there\n")
		for _, id := range sel.models {
			raw, ok := lookup(sel.source, id)
			if !ok {
				errs = append(errs, fmt.Errorf("%s: %s/%s is not in the data", slug, sel.source, id))
				continue
			}
			m, err := resolve(raw, lookup, 0)
			if err == nil {
				err = writeModel(&b, id, m, sel.jsonMode)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %s: %w", slug, id, err))
			}
		}
		if len(errs) > 0 {
			continue
		}
		path := filepath.Join(dir, slug+".yaml")
		old, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		i := bytes.Index(old, []byte("\nmodels:"))
		if i < 0 {
			return fmt.Errorf("%s: no top-level models: line", path)
		}
		out := append(old[:i+1:i+1], b.String()...)
		if !bytes.Equal(out, old) {
			if err := os.WriteFile(path, out, 0o644); err != nil {
				return err
			}
		}
	}
	return errors.Join(errs...)
}

// resolve merges a row with the row its base_model ("provider/model") names:
// the row's own fields win, base_model_omit drops fields of the base.
func resolve(m map[string]any, lookup func(p, id string) (map[string]any, bool), depth int) (map[string]any, error) {
	base, ok := m["base_model"].(string)
	if !ok {
		return m, nil
	}
	if depth > 3 {
		return nil, fmt.Errorf("base_model chain too long")
	}
	provider, id, _ := strings.Cut(base, "/")
	b, ok := lookup(provider, id)
	if self, _ := b["base_model"].(string); !ok || self == base {
		return nil, fmt.Errorf("base_model %s is not in the data", base)
	}
	b, err := resolve(b, lookup, depth+1)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for k, v := range b {
		out[k] = v
	}
	if omit, ok := m["base_model_omit"].([]any); ok {
		for _, k := range omit {
			delete(out, fmt.Sprint(k))
		}
	}
	for k, v := range m {
		if k == "limit" || k == "cost" {
			merged := map[string]any{}
			if bv, ok := out[k].(map[string]any); ok {
				for kk, vv := range bv {
					merged[kk] = vv
				}
			}
			for kk, vv := range v.(map[string]any) {
				merged[kk] = vv
			}
			out[k] = merged
			continue
		}
		out[k] = v
	}
	delete(out, "base_model")
	return out, nil
}

func writeModel(b *strings.Builder, id string, m map[string]any, jsonPolicy bool) error {
	name, _ := m["name"].(string)
	limit, _ := m["limit"].(map[string]any)
	context, output := num(limit["context"]), num(limit["output"])
	mods, _ := m["modalities"].(map[string]any)
	in, out := filterModalities(mods["input"]), filterModalities(mods["output"])
	if name == "" || len(in) == 0 {
		return fmt.Errorf("incomplete row (no name or modalities)")
	}
	family, _ := m["family"].(string)
	embeddings := strings.Contains(id, "embed") || strings.Contains(family, "embed")
	if context <= 0 {
		return fmt.Errorf("no context window")
	}
	if embeddings {
		output = 0 // the data gives the vector size here, not output tokens
	}
	if output > context {
		output = context
	}
	textOut := slices.Contains(out, "text")
	tools := m["tool_call"] == true
	structured := m["structured_output"] == true
	jsonMode := !embeddings && (structured || (jsonPolicy && textOut))
	cost, _ := m["cost"].(map[string]any)

	fmt.Fprintf(b, "  - upstream_id: %s\n", scalar(id))
	fmt.Fprintf(b, "    display_name: %s\n", scalar(name))
	b.WriteString("    capabilities:\n")
	fmt.Fprintf(b, "      context_window: %d\n", int(context))
	fmt.Fprintf(b, "      max_output_tokens: %d\n", int(output))
	fmt.Fprintf(b, "      input_modalities: [%s]\n", strings.Join(in, ", "))
	if embeddings {
		out = nil
	}
	fmt.Fprintf(b, "      output_modalities: [%s]\n", strings.Join(out, ", "))
	fmt.Fprintf(b, "      tools: %t\n", tools && !embeddings)
	fmt.Fprintf(b, "      json_mode: %t\n", jsonMode)
	fmt.Fprintf(b, "      streaming: %t\n", textOut && !embeddings)
	fmt.Fprintf(b, "      vision: %t\n", slices.Contains(in, "image"))
	fmt.Fprintf(b, "      embeddings: %t\n", embeddings)
	fmt.Fprintf(b, "      reasoning: %t\n", m["reasoning"] == true)
	b.WriteString("    pricing:\n")
	for _, p := range [][2]string{{"input", "input_per_mtok"}, {"output", "output_per_mtok"},
		{"cache_read", "cache_read_per_mtok"}, {"cache_write", "cache_write_per_mtok"}} {
		v := num(cost[p[0]])
		if v < 0 {
			return fmt.Errorf("negative price %s", p[0])
		}
		if v == 0 && (p[0] == "cache_read" || p[0] == "cache_write") {
			continue
		}
		fmt.Fprintf(b, "      %s: %s\n", p[1], strconv.FormatFloat(v, 'f', -1, 64))
	}
	if m["status"] == "deprecated" {
		b.WriteString("    deprecated: true\n")
	}
	return nil
}

func filterModalities(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, mod := range modalities {
		for _, x := range list {
			if x == mod {
				out = append(out, mod)
				break
			}
		}
	}
	return out
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

// scalar writes s as a YAML scalar, quoted only when YAML needs it.
func scalar(s string) string {
	out, err := yaml.Marshal(s)
	if err != nil {
		return strconv.Quote(s)
	}
	return strings.TrimSuffix(string(out), "\n")
}
