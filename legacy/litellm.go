package legacy

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/switchyard/switchyard"
)

// MaxLiteLLMConfig bounds the size of a LiteLLM config this package reads.
const MaxLiteLLMConfig = 4 << 20

// LiteLLMConfig is what a LiteLLM proxy config.yaml says about models and
// routing, as read by ParseLiteLLM. Values are kept as written:
// "os.environ/NAME" references are not resolved here.
type LiteLLMConfig struct {
	Models []LiteLLMModel
	// Fallbacks come from fallbacks, context_window_fallbacks and
	// content_policy_fallbacks in litellm_settings or router_settings.
	Fallbacks []LiteLLMFallback
	// GroupAliases is router_settings.model_group_alias: alias → model_name.
	GroupAliases map[string]string
	// Ignored names the settings that have no counterpart here, each with
	// the reason.
	Ignored []LiteLLMIgnored
}

// LiteLLMModel is one model_list entry.
type LiteLLMModel struct {
	Path string // model_list[i]
	// Name is model_name, the name clients ask for.
	Name string
	// Model is litellm_params.model, such as "azure/my-deployment".
	Model string
	// Params holds the other litellm_params as strings.
	Params map[string]string
	RPM    int
	TPM    int
	// Problem is set when the entry cannot be read at all.
	Problem string
}

// LiteLLMFallback is one "model_name: [fallback, …]" rule.
type LiteLLMFallback struct {
	Path string
	Kind string // fallbacks, context_window_fallbacks, content_policy_fallbacks
	From string
	To   []string
}

// LiteLLMIgnored is a setting that does not map.
type LiteLLMIgnored struct {
	Path   string
	Reason string
}

// ParseLiteLLM reads a LiteLLM proxy config. It fails only when the
// document is not YAML or has no model_list; a malformed entry is kept
// with its Problem so that the report can name it.
func ParseLiteLLM(b []byte) (*LiteLLMConfig, error) {
	if len(b) > MaxLiteLLMConfig {
		return nil, switchyard.Errorf(switchyard.EINVALID, "the LiteLLM config is larger than %d bytes", MaxLiteLLMConfig)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, &switchyard.Error{Code: switchyard.EINVALID, Message: "the LiteLLM config is not valid YAML: " + yamlMessage(err)}
	}
	list, ok := doc["model_list"].([]any)
	if !ok {
		return nil, &switchyard.Error{Code: switchyard.EINVALID, Message: "the LiteLLM config has no model_list: give the proxy's config.yaml",
			Fields: []switchyard.FieldError{{Field: "model_list", Code: "required", Message: "a list of models with model_name and litellm_params"}}}
	}
	cfg := &LiteLLMConfig{GroupAliases: map[string]string{}}
	for i, raw := range list {
		cfg.Models = append(cfg.Models, parseModel("model_list["+strconv.Itoa(i)+"]", raw))
	}
	for _, section := range []string{"litellm_settings", "router_settings"} {
		settings, _ := doc[section].(map[string]any)
		for _, k := range slices.Sorted(maps.Keys(settings)) {
			path := section + "." + k
			switch k {
			case "fallbacks", "context_window_fallbacks", "content_policy_fallbacks":
				cfg.Fallbacks = append(cfg.Fallbacks, parseFallbacks(path, k, settings[k])...)
			case "model_group_alias":
				m, _ := settings[k].(map[string]any)
				for _, a := range slices.Sorted(maps.Keys(m)) {
					if to, ok := scalar(m[a]); ok {
						cfg.GroupAliases[a] = to
					} else if mm, ok := m[a].(map[string]any); ok {
						if to, ok := scalar(mm["model"]); ok {
							cfg.GroupAliases[a] = to
						}
					}
				}
			case "num_retries", "request_timeout", "timeout":
				cfg.Ignored = append(cfg.Ignored, LiteLLMIgnored{path, "global retries and timeouts are per provider here (settings.max_retries, settings.timeout_ms): set them on the providers"})
			case "routing_strategy":
				cfg.Ignored = append(cfg.Ignored, LiteLLMIgnored{path, "the gateway spreads load over a provider's keys by weight and tries providers in creation order; there is no routing strategy to choose"})
			case "drop_params", "set_verbose", "telemetry", "json_logs":
				// Behaviour of the Python SDK with no effect on routing.
			default:
				cfg.Ignored = append(cfg.Ignored, LiteLLMIgnored{path, "no counterpart in Switchyard; configure it there by hand if you need it"})
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(doc)) {
		switch k {
		case "model_list", "litellm_settings", "router_settings":
		case "general_settings":
			cfg.Ignored = append(cfg.Ignored, LiteLLMIgnored{k, "proxy settings (master key, database, budgets) are Switchyard's own: see SWITCHYARD_* settings, users and connections"})
		case "environment_variables":
			cfg.Ignored = append(cfg.Ignored, LiteLLMIgnored{k, "never read: give secrets in the operator's environment and refer to them with os.environ/NAME in secret fields"})
		default:
			cfg.Ignored = append(cfg.Ignored, LiteLLMIgnored{k, "no counterpart in Switchyard"})
		}
	}
	return cfg, nil
}

func parseModel(path string, raw any) LiteLLMModel {
	m := LiteLLMModel{Path: path, Params: map[string]string{}}
	entry, ok := raw.(map[string]any)
	if !ok {
		m.Problem = "is not a mapping with model_name and litellm_params"
		return m
	}
	m.Name, _ = scalar(entry["model_name"])
	params, _ := entry["litellm_params"].(map[string]any)
	for k, v := range params {
		if s, ok := scalar(v); ok {
			m.Params[k] = s
		}
	}
	m.Model = m.Params["model"]
	delete(m.Params, "model")
	// rpm and tpm may sit beside litellm_params or inside it.
	for _, src := range []map[string]any{entry, params} {
		if n, ok := intValue(src["rpm"]); ok {
			m.RPM = n
		}
		if n, ok := intValue(src["tpm"]); ok {
			m.TPM = n
		}
	}
	delete(m.Params, "rpm")
	delete(m.Params, "tpm")
	switch {
	case m.Name == "":
		m.Problem = "has no model_name"
	case m.Model == "":
		m.Problem = "has no litellm_params.model"
	}
	return m
}

func parseFallbacks(path, kind string, v any) []LiteLLMFallback {
	list, _ := v.([]any)
	var out []LiteLLMFallback
	for i, raw := range list {
		rule, _ := raw.(map[string]any)
		for _, from := range slices.Sorted(maps.Keys(rule)) {
			f := LiteLLMFallback{Path: path + "[" + strconv.Itoa(i) + "]", Kind: kind, From: from}
			tos, _ := rule[from].([]any)
			for _, t := range tos {
				if s, ok := scalar(t); ok {
					f.To = append(f.To, s)
				}
			}
			out = append(out, f)
		}
	}
	return out
}

// scalar renders a YAML scalar as a string.
func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

func intValue(v any) (int, bool) {
	s, ok := scalar(v)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// yamlMessage keeps the parser's message short and free of the input.
func yamlMessage(err error) string {
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return fmt.Sprint(strings.TrimPrefix(msg, "yaml: "))
}
