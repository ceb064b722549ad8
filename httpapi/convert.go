package httpapi

import (
	"maps"
	"slices"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/httpapi/apigen"
)

// The functions here translate between the wire types of the OpenAPI
// document and the domain. Responses are built field by field from an
// allow-list: a secret is only ever shown as {set, hint}.

func secretViews(m map[string]switchyard.Secret) map[string]apigen.SecretView {
	out := make(map[string]apigen.SecretView, len(m))
	for k, s := range m {
		v := apigen.SecretView{Set: s.IsSet()}
		if h := s.Hint(); h != "" {
			v.Hint = ptr(h)
		}
		out[k] = v
	}
	return out
}

func orEmpty[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

func mapOrEmpty[V any](m map[string]V) map[string]V {
	if m == nil {
		return map[string]V{}
	}
	return m
}

func settingsOut(s switchyard.ProviderSettings) apigen.ProviderSettings {
	out := apigen.ProviderSettings{}
	if s.TimeoutMS != 0 {
		out.TimeoutMs = ptr(s.TimeoutMS)
	}
	if s.MaxRetries != 0 {
		out.MaxRetries = ptr(s.MaxRetries)
	}
	if s.HealthCheckIntervalS != 0 {
		out.HealthCheckIntervalS = ptr(s.HealthCheckIntervalS)
	}
	if s.HealthCheckDisabled {
		out.HealthCheckDisabled = ptr(true)
	}
	if s.RateLimitRPM != 0 {
		out.RateLimitRpm = ptr(s.RateLimitRPM)
	}
	if s.HealthFailuresToDown != 0 {
		out.HealthFailuresToDown = ptr(s.HealthFailuresToDown)
	}
	if s.HealthSuccessesToRecover != 0 {
		out.HealthSuccessesToRecover = ptr(s.HealthSuccessesToRecover)
	}
	if s.HealthWindowS != 0 {
		out.HealthWindowS = ptr(s.HealthWindowS)
	}
	if s.HealthMinRequests != 0 {
		out.HealthMinRequests = ptr(s.HealthMinRequests)
	}
	if s.HealthDegradedErrorRate != 0 {
		out.HealthDegradedErrorRate = ptr(s.HealthDegradedErrorRate)
	}
	if s.HealthDownErrorRate != 0 {
		out.HealthDownErrorRate = ptr(s.HealthDownErrorRate)
	}
	if s.HealthDegradedLatencyMS != 0 {
		out.HealthDegradedLatencyMs = ptr(s.HealthDegradedLatencyMS)
	}
	return out
}

func settingsIn(s *apigen.ProviderSettings) switchyard.ProviderSettings {
	if s == nil {
		return switchyard.ProviderSettings{}
	}
	return switchyard.ProviderSettings{TimeoutMS: deref(s.TimeoutMs), MaxRetries: deref(s.MaxRetries),
		HealthCheckIntervalS: deref(s.HealthCheckIntervalS), HealthCheckDisabled: deref(s.HealthCheckDisabled),
		RateLimitRPM: deref(s.RateLimitRpm), HealthFailuresToDown: deref(s.HealthFailuresToDown), HealthSuccessesToRecover: deref(s.HealthSuccessesToRecover), HealthWindowS: deref(s.HealthWindowS), HealthMinRequests: deref(s.HealthMinRequests), HealthDegradedErrorRate: deref(s.HealthDegradedErrorRate), HealthDownErrorRate: deref(s.HealthDownErrorRate), HealthDegradedLatencyMS: deref(s.HealthDegradedLatencyMs)}
}

// applySettings merges the settings that were sent.
func applySettings(dst *switchyard.ProviderSettings, s *apigen.ProviderSettings) {
	if s == nil {
		return
	}
	if s.TimeoutMs != nil {
		dst.TimeoutMS = *s.TimeoutMs
	}
	if s.MaxRetries != nil {
		dst.MaxRetries = *s.MaxRetries
	}
	if s.HealthCheckIntervalS != nil {
		dst.HealthCheckIntervalS = *s.HealthCheckIntervalS
	}
	if s.HealthCheckDisabled != nil {
		dst.HealthCheckDisabled = *s.HealthCheckDisabled
	}
	if s.RateLimitRpm != nil {
		dst.RateLimitRPM = *s.RateLimitRpm
	}
	if s.HealthFailuresToDown != nil {
		dst.HealthFailuresToDown = *s.HealthFailuresToDown
	}
	if s.HealthSuccessesToRecover != nil {
		dst.HealthSuccessesToRecover = *s.HealthSuccessesToRecover
	}
	if s.HealthWindowS != nil {
		dst.HealthWindowS = *s.HealthWindowS
	}
	if s.HealthMinRequests != nil {
		dst.HealthMinRequests = *s.HealthMinRequests
	}
	if s.HealthDegradedErrorRate != nil {
		dst.HealthDegradedErrorRate = *s.HealthDegradedErrorRate
	}
	if s.HealthDownErrorRate != nil {
		dst.HealthDownErrorRate = *s.HealthDownErrorRate
	}
	if s.HealthDegradedLatencyMs != nil {
		dst.HealthDegradedLatencyMS = *s.HealthDegradedLatencyMs
	}
}

func credentialOut(c switchyard.Credential) apigen.Credential {
	return apigen.Credential{Id: c.ID, Name: c.Name, Method: apigen.AuthMethod(c.Method), Config: mapOrEmpty(c.Config),
		Secrets: secretViews(c.Secrets), Weight: c.Weight, Status: apigen.CredentialStatus(c.Status), Models: orEmpty(c.Models)}
}

func providerOut(p *switchyard.Provider) apigen.Provider {
	out := apigen.Provider{Id: p.ID, Name: p.Name, Slug: p.Slug, Protocol: apigen.Protocol(p.Protocol), BaseUrl: p.BaseURL,
		Template: p.Template, Params: mapOrEmpty(p.Params), System: p.System, Enabled: p.Enabled,
		Status: apigen.ProviderStatus(p.EffectiveStatus()), Settings: settingsOut(p.Settings), Version: p.Version,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
	if p.SystemType != "" {
		out.SystemType = ptr(p.SystemType)
	}
	if p.LastTest != nil {
		out.LastTest = ptr(providerTestOut(p.LastTest))
	}
	// Users get providers without credentials and headers (nil here).
	if p.Credentials != nil || p.Headers != nil {
		creds := make([]apigen.Credential, len(p.Credentials))
		for i, c := range p.Credentials {
			creds[i] = credentialOut(c)
		}
		out.Credentials = &creds
		out.Headers = ptr(secretViews(p.Headers))
	}
	return out
}

// credentialIn builds a credential from the wire form. With a base (the
// stored credential of the same id), fields not sent keep their value, and
// so do secrets not sent; a secret sent as null is cleared.
func credentialIn(in apigen.CredentialInput, base *switchyard.Credential) switchyard.Credential {
	var c switchyard.Credential
	if base != nil {
		c = *base
		c.Secrets = maps.Clone(base.Secrets)
		if in.Config != nil {
			c.Config = nil
		}
	}
	c.ID = deref(in.Id)
	c.Name, c.Method = in.Name, switchyard.AuthMethod(in.Method)
	if in.Config != nil {
		c.Config = maps.Clone(*in.Config)
	}
	if in.Weight != nil {
		c.Weight = *in.Weight
	}
	if in.Status != nil {
		c.Status = switchyard.CredentialStatus(*in.Status)
	}
	if in.Models != nil {
		c.Models = slices.Clone(*in.Models)
	}
	if in.Secrets != nil {
		if c.Secrets == nil {
			c.Secrets = map[string]switchyard.Secret{}
		}
		for k, v := range *in.Secrets {
			if v == nil {
				delete(c.Secrets, k)
				continue
			}
			c.Secrets[k] = switchyard.NewSecret(*v)
		}
	}
	return c
}

func providerIn(in *apigen.ProviderCreate) *switchyard.Provider {
	p := &switchyard.Provider{Name: in.Name, Slug: in.Slug, Protocol: switchyard.Protocol(in.Protocol), BaseURL: in.BaseUrl,
		Template: deref(in.Template), Enabled: in.Enabled == nil || *in.Enabled, Settings: settingsIn(in.Settings)}
	if in.Params != nil {
		p.Params = maps.Clone(*in.Params)
	}
	if in.Credentials != nil {
		for _, c := range *in.Credentials {
			c.Id = nil
			p.Credentials = append(p.Credentials, credentialIn(c, nil))
		}
	}
	if in.Headers != nil {
		p.Headers = map[string]switchyard.Secret{}
		for k, v := range *in.Headers {
			p.Headers[k] = switchyard.NewSecret(v)
		}
	}
	return p
}

// applyProviderPatch merges a patch into the stored provider.
func applyProviderPatch(p *switchyard.Provider, in *apigen.ProviderPatch) error {
	if in.Name != nil {
		p.Name = *in.Name
	}
	if in.Slug != nil {
		p.Slug = *in.Slug
	}
	if in.Protocol != nil {
		p.Protocol = switchyard.Protocol(*in.Protocol)
	}
	if in.BaseUrl != nil {
		p.BaseURL = *in.BaseUrl
	}
	if in.Params != nil {
		p.Params = maps.Clone(*in.Params)
	}
	if in.Enabled != nil {
		p.Enabled = *in.Enabled
	}
	applySettings(&p.Settings, in.Settings)
	if in.Headers != nil {
		if p.Headers == nil {
			p.Headers = map[string]switchyard.Secret{}
		}
		for k, v := range *in.Headers {
			if v == nil {
				delete(p.Headers, k)
				continue
			}
			p.Headers[k] = switchyard.NewSecret(*v)
		}
	}
	if in.Credentials != nil {
		stored := map[string]*switchyard.Credential{}
		for i := range p.Credentials {
			stored[p.Credentials[i].ID] = &p.Credentials[i]
		}
		var pr switchyard.Problems
		creds := make([]switchyard.Credential, 0, len(*in.Credentials))
		for i, c := range *in.Credentials {
			var base *switchyard.Credential
			if c.Id != nil {
				if base = stored[*c.Id]; base == nil {
					pr.Add("credentials["+itoa(int64(i))+"].id", "not_found", "the provider has no credential %q; leave id out to add a new one", *c.Id)
					continue
				}
			}
			creds = append(creds, credentialIn(c, base))
		}
		if err := pr.Err("provider"); err != nil {
			return err
		}
		p.Credentials = creds
	}
	return nil
}

func providerTestOut(t *switchyard.ProviderTest) apigen.ProviderTest {
	out := apigen.ProviderTest{At: t.At, Ok: t.OK, Models: t.Models, Stages: make([]apigen.TestStage, len(t.Stages))}
	if t.Code != "" {
		out.Code = ptr(t.Code)
	}
	for i, s := range t.Stages {
		st := apigen.TestStage{Name: apigen.TestStageName(s.Name), Status: apigen.TestStageStatus(s.Status), DurationMs: s.DurationMS}
		if s.Code != "" {
			st.Code = ptr(s.Code)
		}
		if s.Message != "" {
			st.Message = ptr(s.Message)
		}
		if s.Hint != "" {
			st.Hint = ptr(s.Hint)
		}
		out.Stages[i] = st
	}
	return out
}

func userOut(u *switchyard.User) apigen.User {
	return apigen.User{Id: u.ID, Username: u.Username, Email: u.Email, Role: apigen.Role(u.Role), Disabled: u.Disabled,
		HasPassword: u.PasswordHash != "", LastLoginAt: u.LastLoginAt, Version: u.Version, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}
