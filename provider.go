package switchyard

import (
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Protocol is the wire protocol a provider speaks.
type Protocol string

const (
	ProtocolOpenAI           Protocol = "openai"
	ProtocolOpenAICompatible Protocol = "openai_compatible"
	ProtocolAzureOpenAI      Protocol = "azure_openai"
	ProtocolAnthropic        Protocol = "anthropic"
	ProtocolBedrock          Protocol = "bedrock"
	ProtocolGemini           Protocol = "gemini"
	ProtocolVertex           Protocol = "vertex"
	ProtocolOllama           Protocol = "ollama"
)

// Protocols lists every supported protocol.
var Protocols = []Protocol{ProtocolOpenAI, ProtocolOpenAICompatible, ProtocolAzureOpenAI,
	ProtocolAnthropic, ProtocolBedrock, ProtocolGemini, ProtocolVertex, ProtocolOllama}

// Valid reports whether p is a supported protocol.
func (p Protocol) Valid() bool { return slices.Contains(Protocols, p) }

// AuthMethod is how a provider credential authenticates upstream.
type AuthMethod string

const (
	AuthAPIKey            AuthMethod = "api_key"
	AuthBearer            AuthMethod = "bearer"
	AuthOAuth2            AuthMethod = "oauth2_client_credentials"
	AuthAWSSigV4          AuthMethod = "aws_sigv4"
	AuthGCPServiceAccount AuthMethod = "gcp_service_account"
	AuthAzureAD           AuthMethod = "azure_ad"
	AuthNone              AuthMethod = "none"
)

// AuthMethodSpec says which secret and configuration fields a method takes.
type AuthMethodSpec struct {
	Method          AuthMethod
	RequiredSecrets []string
	OptionalSecrets []string
	RequiredConfig  []string
	OptionalConfig  []string
}

// AuthMethods describes every auth method. Secrets are write-only and stored
// encrypted; config values are plain settings.
var AuthMethods = map[AuthMethod]AuthMethodSpec{
	AuthAPIKey: {Method: AuthAPIKey, RequiredSecrets: []string{"api_key"},
		OptionalConfig: []string{"header", "prefix", "query_param"}},
	AuthBearer: {Method: AuthBearer, RequiredSecrets: []string{"token"}},
	AuthOAuth2: {Method: AuthOAuth2, RequiredSecrets: []string{"client_secret"},
		RequiredConfig: []string{"client_id", "token_url"}, OptionalConfig: []string{"scopes", "audience"}},
	AuthAWSSigV4: {Method: AuthAWSSigV4, RequiredSecrets: []string{"access_key_id", "secret_access_key"},
		OptionalSecrets: []string{"session_token"}, RequiredConfig: []string{"region"}, OptionalConfig: []string{"service"}},
	AuthGCPServiceAccount: {Method: AuthGCPServiceAccount, RequiredSecrets: []string{"service_account_json"},
		OptionalConfig: []string{"scopes"}},
	AuthAzureAD: {Method: AuthAzureAD, RequiredSecrets: []string{"client_secret"},
		RequiredConfig: []string{"tenant_id", "client_id"}, OptionalConfig: []string{"scope", "authority_host"}},
	AuthNone: {Method: AuthNone},
}

// ProviderStatus is a provider's health as the monitor sees it.
type ProviderStatus string

const (
	StatusUnknown  ProviderStatus = "unknown"
	StatusHealthy  ProviderStatus = "healthy"
	StatusDegraded ProviderStatus = "degraded"
	StatusDown     ProviderStatus = "down"
	StatusDisabled ProviderStatus = "disabled"
)

// CredentialStatus says whether the gateway may use a credential.
type CredentialStatus string

const (
	CredentialActive   CredentialStatus = "active"
	CredentialDisabled CredentialStatus = "disabled"
	CredentialFailing  CredentialStatus = "failing"
)

// Provider is one upstream API account or endpoint.
type Provider struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Slug     string   `json:"slug"`
	Protocol Protocol `json:"protocol"`
	BaseURL  string   `json:"base_url"`
	// Template is the slug of the template the provider was made from, if any.
	Template string `json:"template"`
	// Params are the template parameters it was made with (region, resource,
	// api_version, …); adapters read protocol options from here.
	Params map[string]string `json:"params"`
	// SystemType is set on system providers: the built-in provider type
	// ("openai") that old-style connections name.
	SystemType  string       `json:"system_type"`
	System      bool         `json:"system"`
	Enabled     bool         `json:"enabled"`
	Credentials []Credential `json:"credentials"`
	// Headers are extra request headers. Their values may carry secrets, so
	// they are stored encrypted and shown only masked.
	Headers  map[string]Secret `json:"headers"`
	Settings ProviderSettings  `json:"settings"`
	// Status is the health status; StatusDisabled when Enabled is false.
	Status ProviderStatus `json:"status"`
	// LastTest is the latest connectivity test, if any.
	LastTest  *ProviderTest `json:"last_test,omitempty"`
	Version   int64         `json:"version"`
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at"`
}

// ProviderSettings tune how the gateway and the monitor use a provider.
// A zero TimeoutMS or HealthCheckIntervalS means "use the default"; a zero
// MaxRetries means no retries (templates set their own, usually 2).
type ProviderSettings struct {
	TimeoutMS            int  `json:"timeout_ms,omitempty"`
	MaxRetries           int  `json:"max_retries,omitempty"`
	HealthCheckIntervalS int  `json:"health_check_interval_s,omitempty"`
	HealthCheckDisabled  bool `json:"health_check_disabled,omitempty"`
	RateLimitRPM         int  `json:"rate_limit_rpm,omitempty"`
	// Status thresholds (see docs/monitoring.md); zero means the default.
	HealthFailuresToDown     int `json:"health_failures_to_down,omitempty"`
	HealthSuccessesToRecover int `json:"health_successes_to_recover,omitempty"`
	HealthWindowS            int `json:"health_window_s,omitempty"`
	HealthMinRequests        int `json:"health_min_requests,omitempty"`
	HealthDegradedErrorRate  int `json:"health_degraded_error_rate,omitempty"`
	HealthDownErrorRate      int `json:"health_down_error_rate,omitempty"`
	// HealthDegradedLatencyMS is the p95 latency of gateway calls above
	// which the provider is degraded; 0 turns the rule off.
	HealthDegradedLatencyMS int `json:"health_degraded_latency_ms,omitempty"`
}

// Setting defaults and bounds.
const (
	DefaultTimeoutMS            = 60000
	DefaultHealthCheckIntervalS = 60
	// A provider goes down after this many failed checks in a row and
	// recovers after this many successful ones.
	DefaultHealthFailuresToDown     = 3
	DefaultHealthSuccessesToRecover = 2
	// Gateway outcomes are judged over this window, once it holds at least
	// this many requests; error rates are percentages.
	DefaultHealthWindowS           = 300
	DefaultHealthMinRequests       = 10
	DefaultHealthDegradedErrorRate = 25
	DefaultHealthDownErrorRate     = 90
)

// WithDefaults returns the settings with zero values replaced by defaults.
func (s ProviderSettings) WithDefaults() ProviderSettings {
	if s.TimeoutMS == 0 {
		s.TimeoutMS = DefaultTimeoutMS
	}
	if s.HealthCheckIntervalS == 0 {
		s.HealthCheckIntervalS = DefaultHealthCheckIntervalS
	}
	if s.HealthFailuresToDown == 0 {
		s.HealthFailuresToDown = DefaultHealthFailuresToDown
	}
	if s.HealthSuccessesToRecover == 0 {
		s.HealthSuccessesToRecover = DefaultHealthSuccessesToRecover
	}
	if s.HealthWindowS == 0 {
		s.HealthWindowS = DefaultHealthWindowS
	}
	if s.HealthMinRequests == 0 {
		s.HealthMinRequests = DefaultHealthMinRequests
	}
	if s.HealthDegradedErrorRate == 0 {
		s.HealthDegradedErrorRate = DefaultHealthDegradedErrorRate
	}
	if s.HealthDownErrorRate == 0 {
		s.HealthDownErrorRate = DefaultHealthDownErrorRate
	}
	return s
}

// Validate checks the bounds of every setting.
func (s ProviderSettings) Validate() error {
	var p Problems
	if s.TimeoutMS != 0 && (s.TimeoutMS < 100 || s.TimeoutMS > 3600000) {
		p.Add("timeout_ms", "out_of_range", "must be between 100 and 3600000 milliseconds (or 0 for the default %d)", DefaultTimeoutMS)
	}
	if s.MaxRetries < 0 || s.MaxRetries > 10 {
		p.Add("max_retries", "out_of_range", "must be between 0 and 10")
	}
	if s.HealthCheckIntervalS != 0 && (s.HealthCheckIntervalS < 10 || s.HealthCheckIntervalS > 86400) {
		p.Add("health_check_interval_s", "out_of_range", "must be between 10 and 86400 seconds (or 0 for the default %d)", DefaultHealthCheckIntervalS)
	}
	if s.RateLimitRPM < 0 {
		p.Add("rate_limit_rpm", "out_of_range", "must be 0 (no limit) or a positive number of requests per minute")
	}
	for _, b := range []struct {
		field    string
		v        int
		min, max int
		def      int
		unit     string
	}{
		{"health_failures_to_down", s.HealthFailuresToDown, 1, 100, DefaultHealthFailuresToDown, "failed checks in a row"},
		{"health_successes_to_recover", s.HealthSuccessesToRecover, 1, 100, DefaultHealthSuccessesToRecover, "successful checks in a row"},
		{"health_window_s", s.HealthWindowS, 30, 3600, DefaultHealthWindowS, "seconds"},
		{"health_min_requests", s.HealthMinRequests, 1, 1000000, DefaultHealthMinRequests, "requests"},
		{"health_degraded_error_rate", s.HealthDegradedErrorRate, 1, 100, DefaultHealthDegradedErrorRate, "percent"},
		{"health_down_error_rate", s.HealthDownErrorRate, 1, 100, DefaultHealthDownErrorRate, "percent"},
	} {
		if b.v != 0 && (b.v < b.min || b.v > b.max) {
			p.Add(b.field, "out_of_range", "must be between %d and %d %s (or 0 for the default %d)", b.min, b.max, b.unit, b.def)
		}
	}
	if s.HealthDegradedLatencyMS < 0 || s.HealthDegradedLatencyMS > 3600000 {
		p.Add("health_degraded_latency_ms", "out_of_range", "must be between 1 and 3600000 milliseconds, or 0 to judge no latency")
	}
	if d := s.WithDefaults(); d.HealthDownErrorRate < d.HealthDegradedErrorRate && p.Fields() == nil {
		p.Add("health_down_error_rate", "below_degraded", "must be at least health_degraded_error_rate (%d); raise it or lower that one", d.HealthDegradedErrorRate)
	}
	return p.Err("settings")
}

// Credential is one set of keys for a provider. A provider may hold several
// so that the gateway can spread load and retire a failing one.
type Credential struct {
	ID     string     `json:"id"`
	Name   string     `json:"name"`
	Method AuthMethod `json:"method"`
	// Config holds the method's plain settings (client_id, token_url,
	// region, header, …).
	Config map[string]string `json:"config"`
	// Secrets holds the method's secret fields (api_key, client_secret, …).
	Secrets map[string]Secret `json:"secrets"`
	Weight  int               `json:"weight"`
	Status  CredentialStatus  `json:"status"`
	// Models, when not empty, limits the credential to these upstream ids.
	Models []string `json:"models"`
}

// EffectiveStatus returns the status the gateway should use: StatusDisabled
// when the provider is disabled, else its health status.
func (p *Provider) EffectiveStatus() ProviderStatus {
	if !p.Enabled {
		return StatusDisabled
	}
	if p.Status == "" || p.Status == StatusDisabled {
		return StatusUnknown
	}
	return p.Status
}

var (
	slugRE       = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$`)
	headerNameRE = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
	paramNameRE  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
)

// forbiddenHeaders may not be set as extra headers: the HTTP client and the
// auth method own them (a credential, not a header, carries Authorization).
var forbiddenHeaders = []string{"authorization", "host", "content-length", "transfer-encoding", "connection",
	"upgrade", "te", "trailer", "keep-alive", "proxy-authorization", "proxy-connection"}

// ValidSlug reports whether s is a valid slug: lower-case letters, digits and
// inner hyphens, 1 to 64 characters.
func ValidSlug(s string) bool { return slugRE.MatchString(s) }

// Validate checks every field and reports every problem at once.
func (p *Provider) Validate() error {
	var pr Problems
	validateName(&pr, "name", p.Name)
	if !ValidSlug(p.Slug) {
		pr.Add("slug", "invalid_slug", "must be 1-64 lower-case letters, digits and inner hyphens, such as \"openai-prod\"")
	}
	if !p.Protocol.Valid() {
		pr.Add("protocol", "invalid_enum", "must be one of %s", joinProtocols())
	}
	if err := ValidateBaseURL(p.BaseURL); err != nil {
		pr.Add("base_url", "invalid_url", "%s", ErrorMessage(err))
	}
	for k := range p.Params {
		if !paramNameRE.MatchString(k) {
			pr.Add("params."+k, "invalid_name", "parameter names are lower-case letters, digits and underscores")
		}
	}
	if p.Status != "" && !slices.Contains([]ProviderStatus{StatusUnknown, StatusHealthy, StatusDegraded, StatusDown, StatusDisabled}, p.Status) {
		pr.Add("status", "invalid_enum", "must be unknown, healthy, degraded, down or disabled")
	}
	if p.System && p.SystemType == "" {
		pr.Add("system_type", "required", "a system provider names the built-in type it stands for")
	}
	validateHeaders(&pr, "headers", headerNames(p.Headers))
	pr.Merge("settings", p.Settings.Validate())
	names := map[string]int{}
	for i, c := range p.Credentials {
		prefix := "credentials[" + itoa(i) + "]"
		pr.Merge(prefix, c.validate(p.Enabled))
		if j, dup := names[c.Name]; dup && c.Name != "" {
			pr.Add(prefix+".name", "duplicate", "credential names must be unique within a provider; credentials[%d] is also named %q", j, c.Name)
		}
		names[c.Name] = i
	}
	return pr.Err("provider")
}

// Validate checks a credential against its method's fields; every required
// secret must be set.
func (c *Credential) Validate() error { return c.validate(true) }

// validate checks a credential. A disabled provider may lack secrets: system
// providers wait, disabled, until an admin sets their credentials.
func (c *Credential) validate(requireSecrets bool) error {
	var pr Problems
	validateName(&pr, "name", c.Name)
	spec, ok := AuthMethods[c.Method]
	if !ok {
		pr.Add("method", "invalid_enum", "must be one of %s", joinMethods())
		return pr.Err("credential")
	}
	// A credential holds all of its required secrets, or (on a disabled
	// provider) none of them yet.
	for _, v := range c.Secrets {
		requireSecrets = requireSecrets || v.IsSet()
	}
	for _, k := range spec.RequiredSecrets {
		if requireSecrets && !c.Secrets[k].IsSet() {
			pr.Add("secrets."+k, "required", "the %s method needs %s (a provider may be saved without it only while disabled)", c.Method, k)
		}
	}
	for _, k := range sortedKeys(c.Secrets) {
		if !slices.Contains(spec.RequiredSecrets, k) && !slices.Contains(spec.OptionalSecrets, k) {
			pr.Add("secrets."+k, "unknown_field", "the %s method takes no secret %q; it takes %s", c.Method, k, listOrNone(append(slices.Clone(spec.RequiredSecrets), spec.OptionalSecrets...)))
		}
		if v := c.Secrets[k].Reveal(); strings.TrimSpace(v) != v && v != "" {
			pr.Add("secrets."+k, "whitespace", "has leading or trailing whitespace; paste the value without it")
		}
	}
	for _, k := range spec.RequiredConfig {
		if strings.TrimSpace(c.Config[k]) == "" {
			pr.Add("config."+k, "required", "the %s method needs %s", c.Method, k)
		}
	}
	for _, k := range sortedKeys(c.Config) {
		if !slices.Contains(spec.RequiredConfig, k) && !slices.Contains(spec.OptionalConfig, k) {
			pr.Add("config."+k, "unknown_field", "the %s method takes no setting %q; it takes %s", c.Method, k, listOrNone(append(slices.Clone(spec.RequiredConfig), spec.OptionalConfig...)))
		}
	}
	if u := c.Config["token_url"]; u != "" {
		if err := ValidateBaseURL(u); err != nil {
			pr.Add("config.token_url", "invalid_url", "%s", ErrorMessage(err))
		}
	}
	if h := c.Config["header"]; h != "" && !headerNameRE.MatchString(h) {
		pr.Add("config.header", "invalid_header", "must be an HTTP header name such as \"x-api-key\"")
	}
	if c.Weight < 0 || c.Weight > 1000 {
		pr.Add("weight", "out_of_range", "must be between 0 and 1000 (0 means the default, 1)")
	}
	if c.Status != "" && !slices.Contains([]CredentialStatus{CredentialActive, CredentialDisabled, CredentialFailing}, c.Status) {
		pr.Add("status", "invalid_enum", "must be active, disabled or failing")
	}
	for i, m := range c.Models {
		if err := validateUpstreamID(m); err != "" {
			pr.Add("models["+itoa(i)+"]", "invalid_model", "%s", err)
		}
	}
	return pr.Err("credential")
}

// ValidateBaseURL checks an admin-supplied endpoint URL: absolute http or
// https, a host, no user information and no fragment. Whether the address may
// be reached at all is decided at connect time by the SSRF guard.
func ValidateBaseURL(raw string) error {
	if raw == "" {
		return Errorf(EINVALID, "is required, such as \"https://api.openai.com/v1\"")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Errorf(EINVALID, "is not a valid URL; write it as \"https://host/path\"")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return Errorf(EINVALID, "must start with https:// (or http:// for a private endpoint)")
	case u.Host == "" || u.Hostname() == "":
		return Errorf(EINVALID, "has no host; write it as \"https://host/path\"")
	case u.User != nil:
		return Errorf(EINVALID, "must not contain a user name or password; put credentials in the credential's secrets")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return Errorf(EINVALID, "must not contain a #fragment")
	case strings.ContainsAny(raw, " \t\r\n"):
		return Errorf(EINVALID, "must not contain whitespace")
	}
	return nil
}

func validateName(pr *Problems, field, name string) {
	switch {
	case strings.TrimSpace(name) == "":
		pr.Add(field, "required", "is required")
	case len(name) > 200:
		pr.Add(field, "too_long", "must be at most 200 bytes")
	case strings.TrimSpace(name) != name:
		pr.Add(field, "whitespace", "has leading or trailing whitespace")
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		pr.Add(field, "control_character", "must not contain control characters")
	}
}

func validateHeaders(pr *Problems, field string, names []string) {
	for _, k := range names {
		switch {
		case !headerNameRE.MatchString(k):
			pr.Add(field+"."+k, "invalid_header", "is not a valid HTTP header name")
		case slices.Contains(forbiddenHeaders, strings.ToLower(k)):
			pr.Add(field+"."+k, "forbidden_header", "is set by the HTTP client and cannot be overridden")
		}
	}
}

func headerNames(h map[string]Secret) []string { return sortedKeys(h) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func listOrNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}

func joinProtocols() string {
	s := make([]string, len(Protocols))
	for i, p := range Protocols {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}

func joinMethods() string {
	s := make([]string, 0, len(AuthMethods))
	for m := range AuthMethods {
		s = append(s, string(m))
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}

func itoa(i int) string { return strconv.Itoa(i) }
