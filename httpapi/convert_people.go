package httpapi

import (
	"encoding/json"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/httpapi/apigen"
)

// Converters for connections, users, tokens and the audit log. Like those in
// convert.go they build responses field by field: a gateway key or an API
// token appears only in the one response that creates it, and a connection's
// own credential only as {set, hint}.

func connectionOut(c *switchyard.Connection) apigen.Connection {
	out := apigen.Connection{Id: c.ID, Name: c.Name, OwnerId: c.OwnerID, Models: orEmpty(c.Models), KeyPrefix: c.KeyPrefix,
		RateLimitRpm: c.RateLimitRPM, TokenLimitTpm: c.TokenLimitTPM, BudgetUsd: c.BudgetUSD, Enabled: c.Enabled, LastUsedAt: c.LastUsedAt,
		Version: c.Version, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	if c.ProviderID != "" {
		out.ProviderId = ptr(c.ProviderID)
	}
	if c.ProviderType != "" {
		out.ProviderType = ptr(c.ProviderType)
	}
	if c.Credential != nil {
		cred := credentialOut(*c.Credential)
		if cred.Status == "" {
			cred.Status = apigen.CredentialStatus(switchyard.CredentialActive)
		}
		out.Credential = &cred
	}
	return out
}

func connectionWithKeyOut(c *switchyard.Connection, key string) apigen.ConnectionWithKey {
	o := connectionOut(c)
	return apigen.ConnectionWithKey{Id: o.Id, Name: o.Name, OwnerId: o.OwnerId, ProviderId: o.ProviderId,
		ProviderType: o.ProviderType, Models: o.Models, KeyPrefix: o.KeyPrefix, Key: key, Credential: o.Credential,
		RateLimitRpm: o.RateLimitRpm, TokenLimitTpm: o.TokenLimitTpm, BudgetUsd: o.BudgetUsd, Enabled: o.Enabled, LastUsedAt: o.LastUsedAt,
		Version: o.Version, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
}

// connectionCredentialIn builds a connection's own credential. A connection
// keeps only the name, method, config and secrets of a credential; the
// fields that only make sense among a provider's several credentials are
// refused by name. With a base, unsent secrets are kept and null clears one.
func connectionCredentialIn(in apigen.CredentialInput, base *switchyard.Credential, pr *switchyard.Problems) *switchyard.Credential {
	for _, f := range []struct {
		name string
		sent bool
	}{{"id", in.Id != nil}, {"weight", in.Weight != nil}, {"status", in.Status != nil}, {"models", in.Models != nil}} {
		if f.sent {
			pr.Add("credential."+f.name, "unsupported", "a connection's own credential has no %s; leave it out", f.name)
		}
	}
	in.Id, in.Weight, in.Status, in.Models = nil, nil, nil, nil
	c := credentialIn(in, base)
	c.ID, c.Weight, c.Status, c.Models = "", 0, "", nil
	return &c
}

func connectionIn(in *apigen.ConnectionCreate) (*switchyard.Connection, error) {
	c := &switchyard.Connection{Name: in.Name, OwnerID: deref(in.OwnerId), ProviderID: deref(in.ProviderId),
		ProviderType: deref(in.ProviderType), RateLimitRPM: deref(in.RateLimitRpm), TokenLimitTPM: deref(in.TokenLimitTpm), BudgetUSD: deref(in.BudgetUsd),
		Enabled: in.Enabled == nil || *in.Enabled}
	if in.Models != nil {
		c.Models = append([]string{}, *in.Models...)
	}
	var pr switchyard.Problems
	if in.Credential != nil {
		c.Credential = connectionCredentialIn(*in.Credential, nil, &pr)
	}
	return c, pr.Err("connection")
}

// applyConnectionPatch merges a patch into the stored connection: absent
// fields are kept, null clears provider_id, provider_type or credential.
func applyConnectionPatch(c *switchyard.Connection, in *apigen.ConnectionPatch) error {
	if in.Name != nil {
		c.Name = *in.Name
	}
	if in.ProviderId.IsSpecified() {
		c.ProviderID = in.ProviderId.GetOrEmpty()
	}
	if in.ProviderType.IsSpecified() {
		c.ProviderType = in.ProviderType.GetOrEmpty()
	}
	if in.Models != nil {
		c.Models = append([]string{}, *in.Models...)
	}
	if in.TokenLimitTpm != nil {
		c.TokenLimitTPM = *in.TokenLimitTpm
	}
	if in.RateLimitRpm != nil {
		c.RateLimitRPM = *in.RateLimitRpm
	}
	if in.BudgetUsd != nil {
		c.BudgetUSD = *in.BudgetUsd
	}
	if in.Enabled != nil {
		c.Enabled = *in.Enabled
	}
	var pr switchyard.Problems
	switch {
	case in.Credential.IsNull():
		c.Credential = nil
	case in.Credential.IsSpecified():
		var base *switchyard.Credential
		// Secrets are kept only while the method stays the same.
		if c.Credential != nil && string(c.Credential.Method) == string(in.Credential.MustGet().Method) {
			base = c.Credential
		}
		c.Credential = connectionCredentialIn(in.Credential.MustGet(), base, &pr)
	}
	return pr.Err("connection")
}

func tokenOut(t *switchyard.APIToken) apigen.Token {
	return apigen.Token{Id: t.ID, UserId: t.UserID, Name: t.Name, Prefix: t.Prefix, LastUsedAt: t.LastUsedAt,
		ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt, CreatedAt: t.CreatedAt}
}

func tokenWithSecretOut(t *switchyard.APIToken, token string) apigen.TokenWithSecret {
	return apigen.TokenWithSecret{Id: t.ID, UserId: t.UserID, Name: t.Name, Prefix: t.Prefix, Token: token,
		LastUsedAt: t.LastUsedAt, ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt, CreatedAt: t.CreatedAt}
}

func auditOut(e *switchyard.AuditEntry) apigen.AuditEntry {
	return apigen.AuditEntry{Id: e.ID, At: e.At, ActorId: e.ActorID, ActorName: e.ActorName, Action: e.Action,
		ResourceType: e.ResourceType, ResourceId: e.ResourceID, Before: auditObject(e.Before), After: auditObject(e.After),
		RemoteAddr: e.RemoteAddr}
}

// auditObject decodes a stored snapshot; one that is not a JSON object
// (none is written so) is shown as absent.
func auditObject(raw json.RawMessage) *map[string]any {
	if len(raw) == 0 {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil
	}
	return &m
}
