package legacy

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard"
)

// env migrates provider credentials found in environment variables, one
// item per catalog template whose variables are set.
func (pl *planner) env() error {
	yes := true
	var templates []*switchyard.ProviderTemplate
	cursor := ""
	for {
		page, err := pl.s.ListTemplates(pl.ctx, switchyard.TemplateFilter{ListOptions: switchyard.ListOptions{Limit: 200, Cursor: cursor}, System: &yes})
		if err != nil {
			return err
		}
		templates = append(templates, page.Items...)
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	get := func(names ...string) (string, string) {
		for _, n := range names {
			if v, ok := pl.src.Env(n); ok && strings.TrimSpace(v) != "" {
				return strings.TrimSpace(v), n
			}
		}
		return "", ""
	}
	compatible, _ := get("OPENAI_BASE_URL")
	for _, t := range templates {
		pl.templates[t.Slug] = t
		var used []string
		use := func(names ...string) string {
			v, n := get(names...)
			if n != "" {
				used = append(used, n)
			}
			return v
		}
		var tg target
		var secrets map[string]string
		var config map[string]string
		var changes []string
		reason := ""
		switch t.Slug {
		case "openai":
			if compatible != "" {
				continue // the key belongs to the OpenAI-compatible server
			}
			tg, secrets = target{template: t.Slug, system: true}, map[string]string{"api_key": use("OPENAI_API_KEY")}
		case "openai-compatible":
			if compatible == "" {
				continue
			}
			base := use("OPENAI_BASE_URL")
			tg = target{template: t.Slug, params: map[string]string{"base_url": base}, hint: hostOf(base)}
			secrets = map[string]string{"api_key": use("OPENAI_API_KEY")}
		case "azure-openai":
			key := use("AZURE_OPENAI_API_KEY")
			endpoint := use("AZURE_OPENAI_ENDPOINT")
			version := use("OPENAI_API_VERSION", "AZURE_OPENAI_API_VERSION")
			if key == "" && endpoint == "" {
				continue
			}
			if endpoint == "" {
				reason = "AZURE_OPENAI_ENDPOINT is not set: set it to https://<resource>.openai.azure.com and run again"
				break
			}
			tg = azureTarget(endpoint, version)
			secrets = map[string]string{"api_key": key}
		case "bedrock":
			id, secret := use("AWS_ACCESS_KEY_ID"), use("AWS_SECRET_ACCESS_KEY")
			token := use("AWS_SESSION_TOKEN")
			region := use("AWS_REGION", "AWS_DEFAULT_REGION")
			if id == "" && secret == "" {
				continue
			}
			tg = target{template: t.Slug, system: true}
			if region != "" && region != "us-east-1" {
				tg.system = false
				tg.params, tg.hint = map[string]string{"region": region}, region
			}
			secrets = map[string]string{"access_key_id": id, "secret_access_key": secret}
			if token != "" {
				secrets["session_token"] = token
				changes = append(changes, "AWS_SESSION_TOKEN holds temporary credentials: replace them with long-lived ones before they expire")
			}
		case "vertex":
			creds := use("GOOGLE_APPLICATION_CREDENTIALS")
			project := use("GOOGLE_CLOUD_PROJECT")
			location := use("GOOGLE_CLOUD_LOCATION")
			if creds == "" && project == "" {
				continue
			}
			if project == "" {
				reason = "GOOGLE_CLOUD_PROJECT is not set: set it to the project id and run again"
				break
			}
			tg = target{template: t.Slug, params: map[string]string{"project": project, "location": location}, hint: project}
			secrets = map[string]string{"service_account_json": ""}
		default:
			var keyVars []string
			for _, n := range t.EnvVars {
				if strings.HasSuffix(n, "_API_KEY") {
					keyVars = append(keyVars, n)
				}
			}
			if len(keyVars) == 0 || t.AuthMethod != switchyard.AuthAPIKey {
				if v, _ := get(t.EnvVars...); v != "" {
					pl.report.add(Item{Source: SourceEnv, Key: strings.Join(t.EnvVars, ", "), Target: t.Slug,
						Reason: "the " + t.Name + " template needs settings no environment variable gives: create the provider from the template"})
				}
				continue
			}
			key := use(keyVars...)
			if key == "" {
				continue
			}
			tg, secrets = target{template: t.Slug, system: true}, map[string]string{"api_key": key}
		}
		if len(used) == 0 && reason == "" {
			continue
		}
		it := Item{Source: SourceEnv, Key: strings.Join(used, ", "), Target: t.Slug, Changes: changes, Reason: reason}
		if reason != "" {
			pl.report.add(it)
			continue
		}
		w, problem, err := pl.provider(tg)
		if err != nil {
			return err
		}
		if problem != "" {
			it.Reason = problem
			pl.report.add(it)
			continue
		}
		it.Target = w.p.Slug
		var missing []string
		for k, v := range secrets {
			if v == "" {
				delete(secrets, k)
				missing = append(missing, k+" is not in the environment")
			}
		}
		if t.Slug == "vertex" {
			missing = []string{"the service account JSON is read from a file (GOOGLE_APPLICATION_CREDENTIALS), never by the migration: upload its contents as the credential's service_account_json"}
		}
		slices.Sort(missing)
		it.Changes = append(it.Changes, pl.credential(w, secrets, config, missing, "env")...)
		if w.created() {
			it.Changes = append(it.Changes, "serves the "+t.Name+" catalog models by their upstream ids")
			for _, m := range t.Models {
				if _, err := pl.model(w, m.UpstreamID, ""); err != nil {
					return err
				}
			}
		}
		pl.report.add(it)
	}
	return nil
}

// azureTarget is the Azure OpenAI provider of an endpoint such as
// https://<resource>.openai.azure.com.
func azureTarget(endpoint, version string) target {
	host := hostOf(endpoint)
	resource, ok := strings.CutSuffix(host, ".openai.azure.com")
	if !ok {
		resource = slugPart(host)
	}
	tg := target{template: "azure-openai", params: map[string]string{"resource": resource, "api_version": version}, hint: resource}
	if !ok {
		tg.baseURL = endpoint
	}
	return tg
}

// litellmPrefixes maps LiteLLM provider prefixes to catalog templates
// served by a system provider and an API key.
var litellmPrefixes = map[string]string{
	"anthropic": "anthropic", "gemini": "gemini", "mistral": "mistral", "groq": "groq", "deepseek": "deepseek",
	"xai": "xai", "together_ai": "together", "fireworks_ai": "fireworks", "openrouter": "openrouter",
	"cerebras": "cerebras", "perplexity": "perplexity", "cohere": "cohere", "cohere_chat": "cohere",
}

// litellmKnown are litellm_params this migration understands.
var litellmKnown = []string{"api_key", "api_base", "api_version", "aws_access_key_id", "aws_secret_access_key", "aws_session_token",
	"aws_region_name", "aws_bedrock_runtime_endpoint", "vertex_project", "vertex_location", "vertex_credentials", "timeout", "max_retries",
	"stream_timeout", "input_cost_per_token", "output_cost_per_token"}

// litellmSecrets are the only litellm_params whose os.environ/ references
// are resolved (and only by the command line).
var litellmSecrets = []string{"api_key", "aws_access_key_id", "aws_secret_access_key", "aws_session_token", "vertex_credentials"}

func (pl *planner) litellm(cfg *LiteLLMConfig) error {
	groups := map[string][]string{} // model_name → upstream ids
	for _, e := range cfg.Models {
		it := Item{Source: SourceLiteLLM, Key: e.Name, Path: e.Path}
		if e.Problem != "" {
			it.Reason = "the entry " + e.Problem
			pl.report.add(it)
			continue
		}
		upstream, changes, reason, err := pl.litellmModel(e, &it)
		if err != nil {
			return err
		}
		it.Changes, it.Reason = append(it.Changes, changes...), reason
		if reason == "" && upstream != "" && !slices.Contains(groups[e.Name], upstream) {
			groups[e.Name] = append(groups[e.Name], upstream)
		}
		pl.report.add(it)
	}
	for _, a := range slices.Sorted(maps.Keys(cfg.GroupAliases)) {
		to := cfg.GroupAliases[a]
		it := Item{Source: SourceLiteLLM, Key: a, Path: "router_settings.model_group_alias." + a, Target: to}
		ups := groups[to]
		switch {
		case len(ups) == 0:
			it.Reason = "it points at " + strconv.Quote(to) + ", which did not migrate"
		default:
			for _, w := range pl.provs {
				for _, m := range w.models {
					if m.m.UpstreamID == ups[0] && slices.Contains(m.m.Aliases, to) {
						ch, err := pl.model(w, ups[0], a)
						if err != nil {
							return err
						}
						it.Changes = append(it.Changes, ch...)
					}
				}
			}
			if len(ups) > 1 {
				it.Changes = append(it.Changes, "only "+ups[0]+" takes the alias: one name serves one model here")
			}
		}
		pl.report.add(it)
	}
	for _, f := range cfg.Fallbacks {
		it := Item{Source: SourceLiteLLM, Key: f.From + " → " + strings.Join(f.To, ", "), Path: f.Path}
		from := groups[f.From]
		var other []string
		for _, to := range f.To {
			for _, u := range groups[to] {
				if !slices.Contains(from, u) {
					other = append(other, to)
				}
			}
		}
		switch {
		case len(from) == 0:
			it.Reason = strconv.Quote(f.From) + " did not migrate"
		case len(other) > 0:
			it.Reason = fmt.Sprintf("the gateway falls back only between providers serving the same model (in the order they were created); %s serves another model: clients ask for it themselves on failure",
				strings.Join(slices.Compact(other), ", "))
		default:
			it.Changes = []string{"providers serving " + strings.Join(from, ", ") + " are tried in the order they were created"}
		}
		if f.Kind != "fallbacks" && it.Reason == "" {
			it.Changes = append(it.Changes, f.Kind+" are plain fallbacks here: any retryable failure moves on")
		}
		pl.report.add(it)
	}
	for _, ig := range cfg.Ignored {
		pl.report.add(Item{Source: SourceLiteLLM, Key: ig.Path, Path: ig.Path, Reason: ig.Reason})
	}
	return nil
}

// litellmModel maps one model_list entry. It returns the upstream model
// id it lands on.
func (pl *planner) litellmModel(e LiteLLMModel, it *Item) (upstream string, changes []string, reason string, err error) {
	if strings.Contains(e.Name, "*") || strings.Contains(e.Model, "*") {
		return "", nil, "wildcard routing has no counterpart: enable the provider and discover its models (POST /api/v1/providers/{id}/discover-models); each is then asked for by its upstream id", nil
	}
	for _, k := range slices.Sorted(maps.Keys(e.Params)) {
		v := e.Params[k]
		if strings.HasPrefix(v, "os.environ/") && !slices.Contains(litellmSecrets, k) && slices.Contains(litellmKnown, k) {
			return "", nil, k + " refers to an environment variable (" + v + "), which is resolved only for secret fields: write the value in the config", nil
		}
	}
	if strings.HasPrefix(e.Model, "os.environ/") {
		return "", nil, "model refers to an environment variable, which is never resolved: write the model in the config", nil
	}
	prefix, rest, ok := strings.Cut(e.Model, "/")
	if !ok {
		prefix, rest = "openai", e.Model
	}
	p := e.Params
	var tg target
	secretFields := map[string]string{} // our field → litellm param
	config := map[string]string{}
	switch prefix {
	case "openai", "openai_like", "hosted_vllm":
		if base := p["api_base"]; base != "" && hostOf(base) != "api.openai.com" {
			tg = target{template: "openai-compatible", params: map[string]string{"base_url": strings.TrimRight(base, "/")}, hint: hostOf(base)}
		} else {
			if prefix != "openai" {
				return "", nil, prefix + " needs api_base", nil
			}
			tg = target{template: "openai", system: true}
		}
		secretFields["api_key"] = "api_key"
	case "azure":
		if rest == "" {
			return "", nil, "the model names no Azure deployment (azure/<deployment>)", nil
		}
		if p["api_base"] == "" {
			return "", nil, "api_base is missing: give the endpoint https://<resource>.openai.azure.com", nil
		}
		tg = azureTarget(p["api_base"], p["api_version"])
		secretFields["api_key"] = "api_key"
	case "bedrock":
		rest = strings.TrimPrefix(strings.TrimPrefix(rest, "converse/"), "invoke/")
		tg = target{template: "bedrock", system: true}
		if r := p["aws_region_name"]; r != "" && r != "us-east-1" {
			tg.params, tg.hint, tg.system = map[string]string{"region": r}, r, false
		}
		if ep := cmpOr(p["aws_bedrock_runtime_endpoint"], p["api_base"]); ep != "" {
			tg.baseURL, tg.system = ep, false
			tg.hint = strings.Trim(tg.hint+"-"+hostOf(ep), "-")
		}
		secretFields["access_key_id"] = "aws_access_key_id"
		secretFields["secret_access_key"] = "aws_secret_access_key"
		secretFields["session_token"] = "aws_session_token"
	case "vertex_ai":
		rest = strings.TrimPrefix(rest, "gemini/")
		if p["vertex_project"] == "" {
			return "", nil, "vertex_project is missing: give the Google Cloud project id", nil
		}
		tg = target{template: "vertex", params: map[string]string{"project": p["vertex_project"], "location": p["vertex_location"]}, hint: p["vertex_project"]}
		if base := p["api_base"]; base != "" {
			loc := cmpOr(p["vertex_location"], "us-central1")
			tg.baseURL = strings.TrimRight(base, "/") + "/v1/projects/" + p["vertex_project"] + "/locations/" + loc
			tg.hint += "-" + hostOf(base)
		}
		secretFields["service_account_json"] = "vertex_credentials"
	default:
		slug, ok := litellmPrefixes[prefix]
		if !ok {
			return "", nil, "LiteLLM provider " + strconv.Quote(prefix) + " has no counterpart here: create a provider for it (an OpenAI-compatible one if it speaks that API) and add the model", nil
		}
		tg = target{template: slug, system: true}
		if base := p["api_base"]; base != "" {
			tg.baseURL, tg.hint, tg.system = base, hostOf(base), false
		}
		secretFields["api_key"] = "api_key"
	}
	if rest == "" {
		return "", nil, "the model id is empty", nil
	}
	w, problem, err := pl.provider(tg)
	if err != nil || problem != "" {
		return "", nil, problem, err
	}
	it.Target = w.p.Slug + "/" + rest
	// Secrets: literal, or resolved os.environ/ references; absent ones
	// are read as LiteLLM does, from the template's variables, when the
	// command line resolves.
	secrets := map[string]string{}
	var missing []string
	envFallback := map[string][]string{"access_key_id": {"AWS_ACCESS_KEY_ID"}, "secret_access_key": {"AWS_SECRET_ACCESS_KEY"}, "session_token": {"AWS_SESSION_TOKEN"}}
	for _, field := range slices.Sorted(maps.Keys(secretFields)) {
		param := secretFields[field]
		raw := p[param]
		if raw == "" {
			names := envFallback[field]
			if field == "api_key" || field == "service_account_json" {
				names = w.tmpl.EnvVars
			}
			for _, n := range names {
				if strings.HasSuffix(n, "_API_KEY") || strings.HasPrefix(n, "AWS_") {
					if pl.src.Resolve != nil {
						if v, ok := pl.src.Resolve(n); ok && v != "" {
							raw = "os.environ/" + n
							changes = append(changes, param+" is taken from "+n+", as LiteLLM does")
							break
						}
					}
				}
			}
		}
		if raw == "" {
			if field == "session_token" {
				continue
			}
			if field == "service_account_json" {
				missing = append(missing, "vertex_credentials is not given: upload the service account JSON")
				continue
			}
			missing = append(missing, param+" is not given")
			continue
		}
		if field == "service_account_json" && !strings.HasPrefix(raw, "os.environ/") && !strings.HasPrefix(strings.TrimSpace(raw), "{") {
			missing = append(missing, "vertex_credentials names a file, which the migration never reads: upload its contents as the service account JSON")
			continue
		}
		v, why := pl.secretRef(raw)
		if why != "" {
			missing = append(missing, why)
			continue
		}
		secrets[field] = v
	}
	if w.tmpl.AuthMethod == switchyard.AuthAWSSigV4 && len(w.p.Credentials) > 0 {
		config = w.p.Credentials[0].Config
	}
	changes = append(changes, pl.credential(w, secrets, config, missing, "litellm")...)
	changes = append(changes, pl.settings(w, e)...)
	ch, err := pl.model(w, rest, e.Name)
	if err != nil {
		return "", nil, "", err
	}
	changes = append(changes, ch...)
	pricing(w, rest, p)
	for _, k := range slices.Sorted(maps.Keys(p)) {
		if !slices.Contains(litellmKnown, k) {
			changes = append(changes, k+" is not carried over")
		}
	}
	return rest, changes, "", nil
}

// settings carries timeout, max_retries and rpm over to a provider this
// migration creates (from its first entry); they are reported otherwise.
func (pl *planner) settings(w *wprov, e LiteLLMModel) []string {
	var changes []string
	set := map[string]bool{}
	if t, err := strconv.ParseFloat(e.Params["timeout"], 64); err == nil && t > 0 {
		set["timeout"] = true
		if w.created() && w.settingsFrom == "" {
			w.p.Settings.TimeoutMS = min(max(int(t*1000), 100), 3600000)
		}
	}
	if n, err := strconv.Atoi(e.Params["max_retries"]); err == nil && n >= 0 {
		set["max_retries"] = true
		if w.created() && w.settingsFrom == "" {
			w.p.Settings.MaxRetries = min(n, 10)
		}
	}
	if e.RPM > 0 {
		set["rpm"] = true
		if w.created() && w.settingsFrom == "" {
			w.p.Settings.RateLimitRPM = e.RPM
		}
	}
	if len(set) > 0 {
		switch {
		case !w.created():
			changes = append(changes, strings.Join(slices.Sorted(maps.Keys(set)), ", ")+" not applied to the existing provider "+w.p.Slug+": set its settings if needed")
		case w.settingsFrom == "":
			w.settingsFrom = e.Path
		default:
			changes = append(changes, strings.Join(slices.Sorted(maps.Keys(set)), ", ")+": provider "+w.p.Slug+" keeps the settings of "+w.settingsFrom)
		}
	}
	if e.TPM > 0 {
		changes = append(changes, "tpm is not carried over: limit tokens per connection (token_limit_tpm)")
	}
	if e.Params["stream_timeout"] != "" {
		changes = append(changes, "stream_timeout is not carried over: a provider has one timeout")
	}
	return changes
}

// connections points old-style connections at the provider of their type.
func (pl *planner) connections() error {
	cursor := ""
	owners := map[string]string{}
	for {
		page, err := pl.s.ListConnections(pl.ctx, switchyard.ConnectionFilter{ListOptions: switchyard.ListOptions{Limit: 200, Cursor: cursor}})
		if err != nil {
			return err
		}
		for _, c := range page.Items {
			if !c.OldStyle() {
				continue
			}
			owner, ok := owners[c.OwnerID]
			if !ok {
				u, err := pl.s.GetUser(pl.ctx, c.OwnerID)
				if err != nil {
					return err
				}
				owner, owners[c.OwnerID] = u.Username, u.Username
			}
			it := Item{Source: SourceConnections, Key: owner + "/" + c.Name}
			w, why, err := pl.typeProvider(c.ProviderType)
			if err != nil {
				return err
			}
			if w == nil {
				it.Reason = why
			} else {
				it.Target = w.p.Slug
				if why != "" {
					it.Changes = []string{why}
				}
				cc := *c
				pl.conns = append(pl.conns, &wconn{c: &cc, target: w, key: it.Key})
			}
			pl.report.add(it)
		}
		if page.NextCursor == "" {
			return nil
		}
		cursor = page.NextCursor
	}
}

// typeProvider is the provider an old-style connection of type typ moves
// to: the system provider of that type when it is (or this migration makes
// it) enabled with credentials, else one this migration creates from the
// same template.
func (pl *planner) typeProvider(typ string) (*wprov, string, error) {
	for _, w := range pl.provs {
		if w.p.System && w.p.SystemType == typ && hasUsable(w.p) {
			return w, "", nil
		}
	}
	sys, err := pl.s.GetProviderBySlug(pl.ctx, typ)
	if err != nil && switchyard.ErrorCode(err) != switchyard.ENOTFOUND {
		return nil, "", err
	}
	if sys != nil && sys.System && sys.SystemType == typ && hasUsable(sys) {
		w := &wprov{p: cloneProvider(sys), cur: sys}
		return w, "", nil
	}
	for _, w := range pl.provs {
		if w.created() && w.tmpl.SystemType == typ && hasUsable(w.p) {
			return w, "now served by provider " + w.p.Slug + ", which this migration creates", nil
		}
	}
	if sys == nil {
		return nil, "there is no system provider of type " + strconv.Quote(typ) + ": create a provider and point the connection at it", nil
	}
	return nil, "the " + typ + " system provider is disabled or has no key: set its key (or migrate with --from-env or --litellm-config), then migrate the connection", nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// pricing carries input_cost_per_token and output_cost_per_token over to
// the model's prices, as an admin's override.
func pricing(w *wprov, upstream string, p map[string]string) {
	in, errIn := strconv.ParseFloat(p["input_cost_per_token"], 64)
	out, errOut := strconv.ParseFloat(p["output_cost_per_token"], 64)
	if errIn != nil && errOut != nil {
		return
	}
	for _, wm := range w.models {
		if wm.m.UpstreamID != upstream {
			continue
		}
		pr := wm.m.Pricing
		if errIn == nil && in >= 0 && in < 1 {
			pr.InputPerMTok = in * 1e6
		}
		if errOut == nil && out >= 0 && out < 1 {
			pr.OutputPerMTok = out * 1e6
		}
		wm.m.ApplyCapabilities(wm.m.Capabilities, pr, []string{"pricing"}, switchyard.SourceOverride)
	}
}
