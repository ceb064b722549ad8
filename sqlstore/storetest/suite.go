package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/sqlstore"
)

// Run runs the whole contract suite against b; every subtest opens its own
// database.
func Run(t *testing.T, b Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b Backend, db *sqlstore.DB)
	}{
		{"ProviderCRUD", testProviderCRUD},
		{"ProviderValidationReportsEveryField", testProviderValidation},
		{"ProviderSlugUnique", testProviderSlugUnique},
		{"ProviderStaleUpdate", testProviderStaleUpdate},
		{"ProviderConcurrentUpdateOneWins", testProviderConcurrentUpdate},
		{"ProviderCredentialsReplace", testProviderCredentialsReplace},
		{"ProviderKeepsSecretWithoutPlaintext", testProviderKeepsSealedSecret},
		{"ProviderStatus", testProviderStatus},
		{"ProviderListFilters", testProviderListFilters},
		{"SystemProviderCannotBeDeleted", testSystemProvider},
		{"ModelCRUD", testModelCRUD},
		{"ModelUniquePerProvider", testModelUnique},
		{"ModelCascadesWithProvider", testModelCascade},
		{"ModelBulkIsAllOrNothing", testModelBulkAtomic},
		{"ModelCapabilitySources", testModelSources},
		{"ModelTestKeepsVersion", testModelTest},
		{"BenchmarkHistory", testBenchmarks},
		{"CursorPagination", testPagination},
		{"TemplateCRUD", testTemplateCRUD},
		{"ConnectionCRUD", testConnectionCRUD},
		{"ConnectionBlocksProviderDelete", testConnectionRestrict},
		{"UserAndTokens", testUsersAndTokens},
		{"Audit", testAudit},
		{"Sessions", testSessions},
		{"TransactionRollsBack", testTxRollback},
		{"CheckConstraints", testCheckConstraints},
		{"SecretsNotStoredInPlaintext", testNoPlaintext},
		{"CiphertextBoundToRow", testCiphertextBinding},
		{"KeyRotation", testKeyRotation},
		{"UsageAppendAndRead", testUsageAppend},
		{"UsageSpendAndLastUsed", testUsageSpendAndLastUsed},
		{"UsageBatchIsAllOrNothing", testUsageBatchAtomic},
		{"UsageRetriedBatchWrittenOnce", testUsageIdempotent},
		{"UsageFullChunksInATransaction", testUsageFullChunksInTx},
		{"UsageListFilters", testUsageFilters},
		{"UsagePaginationNewestFirst", testUsagePagination},
		{"RollupsReplaceWindow", testRollupsReplace},
		{"RollupsFilters", testRollupsFilters},
		{"RollupsScanAndPrune", testRollupsScanAndPrune},
		{"LegacyMigrations", testLegacyMigrations},
		{"HealthChecks", testHealthChecks},
		{"StatusChanges", testStatusChanges},
		{"LeaderElection", testLeaderElection},
		{"AlertChannels", testAlertChannels},
		{"AlertRulesAndAlerts", testAlertRulesAndAlerts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, b, b.Open(t))
		})
	}
}

var ctx = context.Background()

// Canary secrets: tests check that they never appear where they must not.
const (
	canaryAPIKey  = "sk-canary-api-key-7c1e9a44f0d2b6"
	canaryHeader  = "hdr-canary-value-91ab3f5c2d8e7"
	canaryConnKey = "byo-canary-secret-5d2c8e1f3a9b0"
	canaryAWS     = "aws-canary-secret-0f9e8d7c6b5a4"
)

func newProvider(slug string) *switchyard.Provider {
	return &switchyard.Provider{
		Name: "Provider " + slug, Slug: slug, Protocol: switchyard.ProtocolOpenAI,
		BaseURL: "https://api.openai.com/v1", Enabled: true, Template: "openai",
		Params: map[string]string{"region": "eu"},
		Credentials: []switchyard.Credential{{
			Name: "primary", Method: switchyard.AuthAPIKey, Weight: 2,
			Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret(canaryAPIKey)},
			Models:  []string{"gpt-4o-mini"},
		}},
		Headers:  map[string]switchyard.Secret{"X-Org": switchyard.NewSecret(canaryHeader)},
		Settings: switchyard.ProviderSettings{TimeoutMS: 30000, MaxRetries: 1},
	}
}

func mustCreateProvider(t *testing.T, s switchyard.Store, slug string) *switchyard.Provider {
	t.Helper()
	p := newProvider(slug)
	if err := s.CreateProvider(ctx, p); err != nil {
		t.Fatalf("create provider %s: %v", slug, err)
	}
	return p
}

func newModel(providerID, upstream string) *switchyard.Model {
	return &switchyard.Model{ProviderID: providerID, UpstreamID: upstream, DisplayName: strings.ToUpper(upstream),
		Enabled: true, Aliases: []string{"alias-" + upstream},
		Capabilities: switchyard.Capabilities{ContextWindow: 128000, MaxOutputTokens: 16384,
			InputModalities: []string{"text", "image"}, OutputModalities: []string{"text"}, Tools: true, Streaming: true},
		Pricing: switchyard.Pricing{InputPerMTok: 0.15, OutputPerMTok: 0.6}}
}

func mustUser(t *testing.T, s switchyard.Store, name string, role switchyard.Role) *switchyard.User {
	t.Helper()
	u := &switchyard.User{Username: name, Role: role, Email: name + "@example.com"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("create user: %v", err)
	}
	return u
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := switchyard.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	for _, f := range switchyard.ErrorFields(err) {
		if f.Field == field {
			return
		}
	}
	t.Fatalf("error %v names fields %v, want %q among them", err, switchyard.ErrorFields(err), field)
}

func testProviderCRUD(t *testing.T, _ Backend, db *sqlstore.DB) {
	p := mustCreateProvider(t, db, "openai-prod")
	if p.ID == "" || p.Version != 1 || p.CreatedAt.IsZero() || p.Status != switchyard.StatusUnknown {
		t.Fatalf("created provider = id %q version %d created %v status %q", p.ID, p.Version, p.CreatedAt, p.Status)
	}
	for _, get := range []func() (*switchyard.Provider, error){
		func() (*switchyard.Provider, error) { return db.GetProvider(ctx, p.ID) },
		func() (*switchyard.Provider, error) { return db.GetProviderBySlug(ctx, "openai-prod") },
	} {
		got, err := get()
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != p.Name || got.Protocol != p.Protocol || got.BaseURL != p.BaseURL || !got.Enabled ||
			got.Params["region"] != "eu" || got.Settings.TimeoutMS != 30000 || got.Template != "openai" {
			t.Fatalf("got %+v, want the fields of %+v", got, p)
		}
		if len(got.Credentials) != 1 {
			t.Fatalf("credentials = %d, want 1", len(got.Credentials))
		}
		c := got.Credentials[0]
		if c.ID == "" || c.Name != "primary" || c.Weight != 2 || c.Status != switchyard.CredentialActive ||
			!slices.Equal(c.Models, []string{"gpt-4o-mini"}) {
			t.Fatalf("credential = %+v", c)
		}
		if c.Secrets["api_key"].Reveal() != canaryAPIKey || c.Secrets["api_key"].Hint() != "sk-…b6" && c.Secrets["api_key"].Hint() != switchyard.SecretHint(canaryAPIKey) {
			t.Fatalf("secret did not round-trip: hint %q", c.Secrets["api_key"].Hint())
		}
		if got.Headers["X-Org"].Reveal() != canaryHeader {
			t.Fatalf("header secret did not round-trip")
		}
		if !got.CreatedAt.Equal(p.CreatedAt) {
			t.Fatalf("created_at = %v, want %v", got.CreatedAt, p.CreatedAt)
		}
	}
	got, _ := db.GetProvider(ctx, p.ID)
	got.Name = "Renamed"
	got.Enabled = false
	if err := db.UpdateProvider(ctx, got); err != nil {
		t.Fatal(err)
	}
	if got.Version != 2 {
		t.Fatalf("version after update = %d, want 2", got.Version)
	}
	again, _ := db.GetProvider(ctx, p.ID)
	if again.Name != "Renamed" || again.Enabled || again.Version != 2 || again.EffectiveStatus() != switchyard.StatusDisabled {
		t.Fatalf("after update: %+v", again)
	}
	if again.Credentials[0].Secrets["api_key"].Reveal() != canaryAPIKey {
		t.Fatal("update lost the secret")
	}
	wantCode(t, db.DeleteProvider(ctx, p.ID, 1), switchyard.ESTALE)
	if err := db.DeleteProvider(ctx, p.ID, 2); err != nil {
		t.Fatal(err)
	}
	_, err := db.GetProvider(ctx, p.ID)
	wantCode(t, err, switchyard.ENOTFOUND)
	wantCode(t, db.DeleteProvider(ctx, p.ID, 0), switchyard.ENOTFOUND)
	_, err = db.GetProviderBySlug(ctx, "no-such")
	wantCode(t, err, switchyard.ENOTFOUND)
}

func testProviderValidation(t *testing.T, _ Backend, db *sqlstore.DB) {
	p := &switchyard.Provider{Name: "", Slug: "Bad Slug", Protocol: "smoke-signals", BaseURL: "ftp://user:pw@host",
		Credentials: []switchyard.Credential{{Name: "k", Method: switchyard.AuthOAuth2,
			Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret("x")}}}}
	err := db.CreateProvider(ctx, p)
	wantCode(t, err, switchyard.EINVALID)
	for _, f := range []string{"name", "slug", "protocol", "base_url", "credentials[0].secrets.client_secret",
		"credentials[0].secrets.api_key", "credentials[0].config.client_id", "credentials[0].config.token_url"} {
		wantField(t, err, f)
	}
	if strings.Contains(err.Error(), "user:pw") {
		t.Fatalf("error repeats the URL's credentials: %v", err)
	}
	page, _ := db.ListProviders(ctx, switchyard.ProviderFilter{})
	if len(page.Items) != 0 {
		t.Fatalf("an invalid provider was stored")
	}
}

func testProviderSlugUnique(t *testing.T, _ Backend, db *sqlstore.DB) {
	mustCreateProvider(t, db, "dup")
	err := db.CreateProvider(ctx, newProvider("dup"))
	wantCode(t, err, switchyard.ECONFLICT)
	wantField(t, err, "slug")
	other := mustCreateProvider(t, db, "other")
	other.Slug = "dup"
	err = db.UpdateProvider(ctx, other)
	wantCode(t, err, switchyard.ECONFLICT)
	wantField(t, err, "slug")
}

func testProviderStaleUpdate(t *testing.T, _ Backend, db *sqlstore.DB) {
	p := mustCreateProvider(t, db, "stale")
	a, _ := db.GetProvider(ctx, p.ID)
	b, _ := db.GetProvider(ctx, p.ID)
	a.Name = "A"
	if err := db.UpdateProvider(ctx, a); err != nil {
		t.Fatal(err)
	}
	b.Name = "B"
	err := db.UpdateProvider(ctx, b)
	wantCode(t, err, switchyard.ESTALE)
	var e *switchyard.Error
	if !errors.As(err, &e) || !strings.Contains(e.Message, "version") {
		t.Fatalf("stale error should say which version: %v", err)
	}
	got, _ := db.GetProvider(ctx, p.ID)
	if got.Name != "A" {
		t.Fatalf("stale update changed the row: name %q", got.Name)
	}
	missing := newProvider("missing")
	missing.ID, missing.Version = "00000000-0000-0000-0000-000000000000", 1
	wantCode(t, db.UpdateProvider(ctx, missing), switchyard.ENOTFOUND)
}

func testProviderConcurrentUpdate(t *testing.T, _ Backend, db *sqlstore.DB) {
	p := mustCreateProvider(t, db, "race")
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := db.GetProvider(ctx, p.ID)
			if err != nil {
				errs[i] = err
				return
			}
			c.Version = 1
			c.Name = fmt.Sprintf("writer %d", i)
			errs[i] = db.UpdateProvider(ctx, c)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch switchyard.ErrorCode(err) {
		case "":
			ok++
		case switchyard.ESTALE:
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent updates with the same version succeeded, want exactly 1", ok, n)
	}
}

func testProviderCredentialsReplace(t *testing.T, _ Backend, db *sqlstore.DB) {
	p := mustCreateProvider(t, db, "multi")
	p.Credentials = append(p.Credentials, switchyard.Credential{Name: "aws", Method: switchyard.AuthAWSSigV4,
		Config: map[string]string{"region": "us-east-1"},
		Secrets: map[string]switchyard.Secret{"access_key_id": switchyard.NewSecret("AKIAEXAMPLE"),
			"secret_access_key": switchyard.NewSecret(canaryAWS)}})
	if err := db.UpdateProvider(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, _ := db.GetProvider(ctx, p.ID)
	if len(got.Credentials) != 2 || got.Credentials[1].Name != "aws" || got.Credentials[1].Secrets["secret_access_key"].Reveal() != canaryAWS {
		t.Fatalf("credentials after add = %+v", got.Credentials)
	}
	firstID := got.Credentials[0].ID
	// Drop the first; the second keeps its id and secrets and moves up.
	got.Credentials = got.Credentials[1:]
	if err := db.UpdateProvider(ctx, got); err != nil {
		t.Fatal(err)
	}
	again, _ := db.GetProvider(ctx, p.ID)
	if len(again.Credentials) != 1 || again.Credentials[0].Name != "aws" || again.Credentials[0].ID == firstID {
		t.Fatalf("credentials after remove = %+v", again.Credentials)
	}
	// A new credential may take the name of one it replaces, and two may
	// swap names.
	again.Credentials = []switchyard.Credential{{Name: "aws", Method: switchyard.AuthAPIKey,
		Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret(canaryAPIKey)}}}
	if err := db.UpdateProvider(ctx, again); err != nil {
		t.Fatalf("replacing a credential by one of the same name: %v", err)
	}
	again.Credentials = append(again.Credentials, switchyard.Credential{Name: "second", Method: switchyard.AuthAPIKey,
		Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret(canaryAPIKey)}})
	if err := db.UpdateProvider(ctx, again); err != nil {
		t.Fatal(err)
	}
	again.Credentials[0].Name, again.Credentials[1].Name = "second", "aws"
	if err := db.UpdateProvider(ctx, again); err != nil {
		t.Fatalf("swapping credential names: %v", err)
	}
	swapped, _ := db.GetProvider(ctx, p.ID)
	if swapped.Credentials[0].Name != "second" || swapped.Credentials[1].Name != "aws" || swapped.Credentials[0].ID != again.Credentials[0].ID {
		t.Fatalf("after the swap: %+v", swapped.Credentials)
	}
	again = swapped
	again.Credentials = again.Credentials[:1]
	// Two credentials with one name are refused.
	again.Credentials = append(again.Credentials, again.Credentials[0])
	again.Credentials[1].ID = ""
	err := db.UpdateProvider(ctx, again)
	wantCode(t, err, switchyard.EINVALID)
	wantField(t, err, "credentials[1].name")
}

func testProviderKeepsSealedSecret(t *testing.T, _ Backend, db *sqlstore.DB) {
	p := mustCreateProvider(t, db, "keep")
	got, _ := db.GetProvider(ctx, p.ID)
	// A caller that did not receive the plaintext (as the API never sends
	// it) passes the sealed secret back: the stored value is kept.
	sealed := got.Credentials[0].Secrets["api_key"]
	got.Credentials[0].Secrets["api_key"] = switchyard.SealedSecret(sealed.Hint(), nil)
	got.Headers["X-Org"] = switchyard.SealedSecret("", nil)
	got.Name = "kept"
	if err := db.UpdateProvider(ctx, got); err != nil {
		t.Fatal(err)
	}
	again, _ := db.GetProvider(ctx, p.ID)
	if again.Credentials[0].Secrets["api_key"].Reveal() != canaryAPIKey || again.Headers["X-Org"].Reveal() != canaryHeader {
		t.Fatal("a sealed secret passed back did not keep the stored value")
	}
	// Without a stored value there is nothing to keep.
	again.Credentials = append(again.Credentials, switchyard.Credential{Name: "new", Method: switchyard.AuthAPIKey,
		Secrets: map[string]switchyard.Secret{"api_key": switchyard.SealedSecret("sk-…abcd", nil)}})
	err := db.UpdateProvider(ctx, again)
	wantCode(t, err, switchyard.EINVALID)
	wantField(t, err, "credentials[1].secrets.api_key")
}

func testProviderStatus(t *testing.T, _ Backend, db *sqlstore.DB) {
	p := mustCreateProvider(t, db, "health")
	if err := db.SetProviderStatus(ctx, p.ID, switchyard.StatusDown); err != nil {
		t.Fatal(err)
	}
	got, _ := db.GetProvider(ctx, p.ID)
	if got.Status != switchyard.StatusDown || got.Version != 1 {
		t.Fatalf("status %q version %d, want down and version 1 (status must not make edits stale)", got.Status, got.Version)
	}
	wantCode(t, db.SetProviderStatus(ctx, p.ID, "on-fire"), switchyard.EINVALID)
	test := &switchyard.ProviderTest{At: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Code: "auth_rejected",
		Stages: []switchyard.TestStage{{Name: switchyard.StageDNS, Status: switchyard.StageOK, DurationMS: 3},
			{Name: switchyard.StageAuth, Status: switchyard.StageFailed, Code: "auth_rejected", Hint: "check the key"}}}
	if err := db.SetProviderTest(ctx, p.ID, test); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.GetProvider(ctx, p.ID); got.LastTest == nil || got.LastTest.Code != "auth_rejected" || len(got.LastTest.Stages) != 2 ||
		got.LastTest.Stages[1].Hint != "check the key" || got.Version != 1 {
		t.Fatalf("last test = %+v, version %d", got.LastTest, got.Version)
	}
	wantCode(t, db.SetProviderTest(ctx, "00000000-0000-0000-0000-000000000000", test), switchyard.ENOTFOUND)
	wantCode(t, db.SetProviderStatus(ctx, "00000000-0000-0000-0000-000000000000", switchyard.StatusHealthy), switchyard.ENOTFOUND)
	page, _ := db.ListProviders(ctx, switchyard.ProviderFilter{Status: switchyard.StatusDown})
	if len(page.Items) != 1 {
		t.Fatalf("filter by status down found %d", len(page.Items))
	}
}

func testProviderListFilters(t *testing.T, _ Backend, db *sqlstore.DB) {
	a := mustCreateProvider(t, db, "alpha")
	b := newProvider("beta_like")
	b.Slug, b.Name = "beta", "Beta 100% fast_one"
	b.Protocol, b.Enabled = switchyard.ProtocolAnthropic, false
	if err := db.CreateProvider(ctx, b); err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	tests := []struct {
		name string
		f    switchyard.ProviderFilter
		want []string
	}{
		{"all", switchyard.ProviderFilter{}, []string{a.ID, b.ID}},
		{"protocol", switchyard.ProviderFilter{Protocol: switchyard.ProtocolAnthropic}, []string{b.ID}},
		{"enabled", switchyard.ProviderFilter{Enabled: &yes}, []string{a.ID}},
		{"disabled", switchyard.ProviderFilter{Enabled: &no}, []string{b.ID}},
		{"status disabled", switchyard.ProviderFilter{Status: switchyard.StatusDisabled}, []string{b.ID}},
		{"search case-insensitive", switchyard.ProviderFilter{Search: "ALPH"}, []string{a.ID}},
		{"search literal percent", switchyard.ProviderFilter{Search: "100%"}, []string{b.ID}},
		{"search literal underscore", switchyard.ProviderFilter{Search: "t_o"}, []string{b.ID}},
		{"underscore is no wildcard", switchyard.ProviderFilter{Search: "a_p"}, nil},
		{"system", switchyard.ProviderFilter{System: &yes}, nil},
	}
	for _, tt := range tests {
		page, err := db.ListProviders(ctx, tt.f)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var ids []string
		for _, p := range page.Items {
			ids = append(ids, p.ID)
		}
		if !slices.Equal(ids, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, ids, tt.want)
		}
	}
	page, _ := db.ListProviders(ctx, switchyard.ProviderFilter{})
	for _, p := range page.Items {
		if len(p.Credentials) != 1 || p.Credentials[0].Secrets["api_key"].Reveal() != canaryAPIKey {
			t.Fatalf("listed provider %s lacks its credential", p.Slug)
		}
	}
}

func testSystemProvider(t *testing.T, _ Backend, db *sqlstore.DB) {
	p := newProvider("openai")
	p.System, p.SystemType, p.Enabled = true, "openai", false
	if err := db.CreateProvider(ctx, p); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.DeleteProvider(ctx, p.ID, 0), switchyard.EFORBIDDEN)
	p.System = false
	wantCode(t, db.UpdateProvider(ctx, p), switchyard.EFORBIDDEN)
	dup := newProvider("openai-2")
	dup.System, dup.SystemType = true, "openai"
	err := db.CreateProvider(ctx, dup)
	wantCode(t, err, switchyard.ECONFLICT)
	wantField(t, err, "system_type")
}

func testModelCRUD(t *testing.T, _ Backend, db *sqlstore.DB) {
	p := mustCreateProvider(t, db, "models")
	m := newModel(p.ID, "gpt-4o-mini")
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	m.LastTest = &switchyard.TestResult{At: now, OK: true, LatencyMS: 120}
	if err := db.CreateModel(ctx, m); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetModel(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.UpstreamID != "gpt-4o-mini" || got.ProviderID != p.ID || got.Capabilities.ContextWindow != 128000 ||
		!slices.Equal(got.Capabilities.InputModalities, []string{"text", "image"}) || got.Pricing.OutputPerMTok != 0.6 ||
		!slices.Equal(got.Aliases, []string{"alias-gpt-4o-mini"}) || got.Status != switchyard.ModelUnknown ||
		got.LastTest == nil || !got.LastTest.At.Equal(now) || got.LastBenchmark != nil {
		t.Fatalf("got %+v", got)
	}
	got.Pricing.InputPerMTok = 0.1
	got.Status = switchyard.ModelAvailable
	got.LastBenchmark = &switchyard.BenchmarkResult{At: now, Requests: 5, P50MS: 210}
	if err := db.UpdateModel(ctx, got); err != nil {
		t.Fatal(err)
	}
	stale := *m
	stale.DisplayName = "stale"
	wantCode(t, db.UpdateModel(ctx, &stale), switchyard.ESTALE)
	again, _ := db.GetModel(ctx, m.ID)
	if again.Pricing.InputPerMTok != 0.1 || again.Status != switchyard.ModelAvailable || again.LastBenchmark.P50MS != 210 || again.Version != 2 {
		t.Fatalf("after update %+v", again)
	}
	bad := newModel(p.ID, "")
	bad.Pricing.InputPerMTok = -1
	bad.Capabilities.MaxOutputTokens = 1 << 30
	err = db.CreateModel(ctx, bad)
	wantCode(t, err, switchyard.EINVALID)
	wantField(t, err, "upstream_id")
	wantField(t, err, "pricing.input_per_mtok")
	wantField(t, err, "capabilities.max_output_tokens")
	orphan := newModel("00000000-0000-0000-0000-000000000000", "x")
	wantCode(t, db.CreateModel(ctx, orphan), switchyard.ENOTFOUND)
	if err := db.DeleteModel(ctx, m.ID, again.Version); err != nil {
		t.Fatal(err)
	}
	_, err = db.GetModel(ctx, m.ID)
	wantCode(t, err, switchyard.ENOTFOUND)
}

func testModelTest(t *testing.T, _ Backend, db *sqlstore.DB) {
	p := mustCreateProvider(t, db, "tested")
	m := newModel(p.ID, "gpt-4o-mini")
	if err := db.CreateModel(ctx, m); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	res := &switchyard.TestResult{At: at, OK: true, LatencyMS: 80, TTFTMS: 30, InputTokens: 12, OutputTokens: 3,
		Checks: []switchyard.CapabilityCheck{{Name: "tools", Declared: true, Result: switchyard.CheckVerified}}}
	if err := db.SetModelTest(ctx, m.ID, switchyard.ModelAvailable, res); err != nil {
		t.Fatal(err)
	}
	got, _ := db.GetModel(ctx, m.ID)
	if got.Status != switchyard.ModelAvailable || got.LastTest == nil || !got.LastTest.At.Equal(at) || got.LastTest.TTFTMS != 30 ||
		len(got.LastTest.Checks) != 1 || got.LastTest.Checks[0].Result != switchyard.CheckVerified || got.Version != 1 {
		t.Fatalf("after the test: %+v (last test %+v)", got, got.LastTest)
	}
	// An edit based on the version read before the test still applies (the
	// control plane applies it to the model as it is now).
	got.Version = m.Version
	got.DisplayName = "edited"
	if err := db.UpdateModel(ctx, got); err != nil {
		t.Fatalf("an edit after a test: %v", err)
	}
	if got, _ := db.GetModel(ctx, m.ID); got.DisplayName != "edited" || got.LastTest == nil {
		t.Fatalf("the edit lost the test: %+v", got)
	}
	wantCode(t, db.SetModelTest(ctx, m.ID, "broken", res), switchyard.EINVALID)
	wantCode(t, db.SetModelTest(ctx, "00000000-0000-0000-0000-000000000000", switchyard.ModelUnavailable, res), switchyard.ENOTFOUND)
}

func testBenchmarks(t *testing.T, _ Backend, db *sqlstore.DB) {
	p := mustCreateProvider(t, db, "benched")
	m := newModel(p.ID, "gpt-4o-mini")
	other := newModel(p.ID, "gpt-4o")
	if err := db.CreateModels(ctx, []*switchyard.Model{m, other}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
	first := &switchyard.BenchmarkResult{ModelID: m.ID, At: at, Status: switchyard.BenchmarkCompleted, Requests: 10,
		Concurrency: 3, P50MS: 100, P95MS: 150, P99MS: 190, TTFTMS: 40, TokensPerSec: 55.5}
	if err := db.AddBenchmark(ctx, first); err != nil {
		t.Fatal(err)
	}
	cancelled := &switchyard.BenchmarkResult{ModelID: m.ID, At: at.Add(time.Minute), Status: switchyard.BenchmarkCancelled, Requests: 4, Errors: 1}
	if err := db.AddBenchmark(ctx, cancelled); err != nil {
		t.Fatal(err)
	}
	if err := db.AddBenchmark(ctx, &switchyard.BenchmarkResult{ModelID: other.ID, Status: switchyard.BenchmarkCompleted}); err != nil {
		t.Fatal(err)
	}
	if first.ID == "" || cancelled.ID == "" {
		t.Fatal("no ids were given")
	}
	// Only a completed run becomes the model's last benchmark; the version stays.
	got, _ := db.GetModel(ctx, m.ID)
	if got.LastBenchmark == nil || got.LastBenchmark.ID != first.ID || got.LastBenchmark.P99MS != 190 || got.Version != 1 {
		t.Fatalf("last benchmark = %+v, version %d", got.LastBenchmark, got.Version)
	}
	page, err := db.ListBenchmarks(ctx, m.ID, switchyard.ListOptions{Limit: 1})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != cancelled.ID || page.NextCursor == "" {
		t.Fatalf("first page = %+v, %v", page, err)
	}
	page, err = db.ListBenchmarks(ctx, m.ID, switchyard.ListOptions{Limit: 1, Cursor: page.NextCursor})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != first.ID || !page.Items[0].At.Equal(at) ||
		page.Items[0].TokensPerSec != 55.5 || page.NextCursor != "" {
		t.Fatalf("second page = %+v, %v", page, err)
	}
	wantCode(t, db.AddBenchmark(ctx, &switchyard.BenchmarkResult{ModelID: m.ID, Status: "running"}), switchyard.EINVALID)
	wantCode(t, db.AddBenchmark(ctx, &switchyard.BenchmarkResult{ModelID: "00000000-0000-0000-0000-000000000000",
		Status: switchyard.BenchmarkCompleted}), switchyard.ENOTFOUND)
	// The history goes with the model.
	if err := db.DeleteModel(ctx, m.ID, 0); err != nil {
		t.Fatal(err)
	}
	if page, err := db.ListBenchmarks(ctx, m.ID, switchyard.ListOptions{}); err != nil || len(page.Items) != 0 {
		t.Fatalf("after delete: %+v, %v", page, err)
	}
}

func testModelUnique(t *testing.T, _ Backend, db *sqlstore.DB) {
	a := mustCreateProvider(t, db, "a")
	b := mustCreateProvider(t, db, "b")
	if err := db.CreateModel(ctx, newModel(a.ID, "m1")); err != nil {
		t.Fatal(err)
	}
	err := db.CreateModel(ctx, newModel(a.ID, "m1"))
	wantCode(t, err, switchyard.ECONFLICT)
	wantField(t, err, "upstream_id")
	if err := db.CreateModel(ctx, newModel(b.ID, "m1")); err != nil {
		t.Fatalf("the same upstream id on another provider: %v", err)
	}
}

func testModelCascade(t *testing.T, _ Backend, db *sqlstore.DB) {
	p := mustCreateProvider(t, db, "cascade")
	m := newModel(p.ID, "m")
	if err := db.CreateModel(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteProvider(ctx, p.ID, 0); err != nil {
		t.Fatal(err)
	}
	_, err := db.GetModel(ctx, m.ID)
	wantCode(t, err, switchyard.ENOTFOUND)
	var n int
	if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM provider_credentials`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("credentials left after provider delete: %d (%v)", n, err)
	}
}

func testModelBulkAtomic(t *testing.T, _ Backend, db *sqlstore.DB) {
	p := mustCreateProvider(t, db, "bulk")
	ms := []*switchyard.Model{newModel(p.ID, "one"), newModel(p.ID, "two"), newModel(p.ID, "one")}
	err := db.CreateModels(ctx, ms)
	wantCode(t, err, switchyard.ECONFLICT)
	page, _ := db.ListModels(ctx, switchyard.ModelFilter{ProviderID: p.ID})
	if len(page.Items) != 0 {
		t.Fatalf("a failed bulk insert left %d models", len(page.Items))
	}
	bad := []*switchyard.Model{newModel(p.ID, "ok"), newModel(p.ID, "bad id")}
	err = db.CreateModels(ctx, bad)
	wantCode(t, err, switchyard.EINVALID)
	wantField(t, err, "[1].upstream_id")
	good := []*switchyard.Model{newModel(p.ID, "one"), newModel(p.ID, "two")}
	if err := db.CreateModels(ctx, good); err != nil {
		t.Fatal(err)
	}
	page, _ = db.ListModels(ctx, switchyard.ModelFilter{ProviderID: p.ID})
	if len(page.Items) != 2 {
		t.Fatalf("bulk insert stored %d, want 2", len(page.Items))
	}
}

func testModelSources(t *testing.T, _ Backend, db *sqlstore.DB) {
	p := mustCreateProvider(t, db, "sources")
	m := &switchyard.Model{ProviderID: p.ID, UpstreamID: "m", Enabled: true}
	catalog := switchyard.Capabilities{ContextWindow: 8000, MaxOutputTokens: 1000, Tools: true}
	m.ApplyCapabilities(catalog, switchyard.Pricing{InputPerMTok: 1}, switchyard.CapabilityFields, switchyard.SourceCatalog)
	// The admin overrides the context window.
	m.ApplyCapabilities(switchyard.Capabilities{ContextWindow: 32000}, switchyard.Pricing{}, []string{"context_window"}, switchyard.SourceOverride)
	if err := db.CreateModel(ctx, m); err != nil {
		t.Fatal(err)
	}
	got, _ := db.GetModel(ctx, m.ID)
	// A later sync from the provider does not overwrite the override.
	changed := got.ApplyCapabilities(switchyard.Capabilities{ContextWindow: 4000, MaxOutputTokens: 2000, Tools: false},
		switchyard.Pricing{}, []string{"context_window", "max_output_tokens", "tools"}, switchyard.SourceProvider)
	if err := db.UpdateModel(ctx, got); err != nil {
		t.Fatal(err)
	}
	again, _ := db.GetModel(ctx, m.ID)
	if again.Capabilities.ContextWindow != 32000 || again.SourceOf("context_window") != switchyard.SourceOverride {
		t.Fatalf("override lost: context %d from %s", again.Capabilities.ContextWindow, again.SourceOf("context_window"))
	}
	if again.Capabilities.MaxOutputTokens != 2000 || again.SourceOf("max_output_tokens") != switchyard.SourceProvider ||
		again.SourceOf("pricing") != switchyard.SourceCatalog || slices.Contains(changed, "context_window") {
		t.Fatalf("sync result wrong: %+v sources %v changed %v", again.Capabilities, again.Sources, changed)
	}
}

func testPagination(t *testing.T, _ Backend, db *sqlstore.DB) {
	p := mustCreateProvider(t, db, "pages")
	var ms []*switchyard.Model
	for i := range 25 {
		ms = append(ms, newModel(p.ID, fmt.Sprintf("m-%02d", i)))
	}
	if err := db.CreateModels(ctx, ms); err != nil {
		t.Fatal(err)
	}
	var seen []string
	cursor := ""
	pages := 0
	for {
		page, err := db.ListModels(ctx, switchyard.ModelFilter{ProviderID: p.ID, ListOptions: switchyard.ListOptions{Limit: 10, Cursor: cursor}})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, m := range page.Items {
			seen = append(seen, m.UpstreamID)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if pages != 3 || len(seen) != 25 {
		t.Fatalf("pages %d, items %d; want 3 and 25", pages, len(seen))
	}
	for i, id := range seen {
		if want := fmt.Sprintf("m-%02d", i); id != want {
			t.Fatalf("item %d = %s, want %s (creation order, no duplicates)", i, id, want)
		}
	}
	page, _ := db.ListModels(ctx, switchyard.ModelFilter{ProviderID: p.ID, ListOptions: switchyard.ListOptions{Limit: 25}})
	if len(page.Items) != 25 || page.NextCursor != "" {
		t.Fatalf("an exact page: %d items, cursor %q", len(page.Items), page.NextCursor)
	}
	_, err := db.ListModels(ctx, switchyard.ModelFilter{ListOptions: switchyard.ListOptions{Cursor: "!!not-a-cursor"}})
	wantCode(t, err, switchyard.EINVALID)
	wantField(t, err, "cursor")
	_, err = db.ListModels(ctx, switchyard.ModelFilter{ListOptions: switchyard.ListOptions{Limit: switchyard.MaxPageSize + 1}})
	wantField(t, err, "limit")
	search, _ := db.ListModels(ctx, switchyard.ModelFilter{Search: "m-1"})
	if len(search.Items) != 10 {
		t.Fatalf("search m-1 found %d, want 10", len(search.Items))
	}
	off := false
	p.Enabled = false
	if err := db.UpdateProvider(ctx, p); err != nil {
		t.Fatal(err)
	}
	if hidden, _ := db.ListModels(ctx, switchyard.ModelFilter{ProviderEnabled: &off}); len(hidden.Items) != 25 {
		t.Fatalf("models of disabled providers: %d, want 25", len(hidden.Items))
	}
	on := true
	if visible, _ := db.ListModels(ctx, switchyard.ModelFilter{ProviderEnabled: &on}); len(visible.Items) != 0 {
		t.Fatalf("models of enabled providers: %d, want 0", len(visible.Items))
	}
}

func newTemplate(slug string) *switchyard.ProviderTemplate {
	return &switchyard.ProviderTemplate{Slug: slug, Name: "Template " + slug, Protocol: switchyard.ProtocolAzureOpenAI,
		BaseURL: "https://{resource}.openai.azure.com", AuthMethod: switchyard.AuthAPIKey,
		AuthConfig: map[string]string{"header": "api-key"},
		Parameters: []byte(`{"type":"object","required":["resource"],"properties":{"resource":{"type":"string"}}}`),
		Headers:    map[string]string{"x-default": "1"},
		Models: []switchyard.TemplateModel{{UpstreamID: "gpt-4o", Capabilities: switchyard.Capabilities{ContextWindow: 128000},
			Pricing: switchyard.Pricing{InputPerMTok: 2.5, OutputPerMTok: 10}}},
		EnvVars: []string{"AZURE_OPENAI_API_KEY"}}
}

func testTemplateCRUD(t *testing.T, _ Backend, db *sqlstore.DB) {
	tpl := newTemplate("azure-custom")
	if err := db.CreateTemplate(ctx, tpl); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetTemplateBySlug(ctx, "azure-custom")
	if err != nil {
		t.Fatal(err)
	}
	if got.BaseURL != tpl.BaseURL || got.AuthConfig["header"] != "api-key" || len(got.Models) != 1 ||
		got.Models[0].Pricing.OutputPerMTok != 10 || !slices.Equal(got.ParameterNames(), []string{"resource"}) ||
		!slices.Equal(got.EnvVars, []string{"AZURE_OPENAI_API_KEY"}) || got.System {
		t.Fatalf("got %+v", got)
	}
	wantCode(t, db.CreateTemplate(ctx, newTemplate("azure-custom")), switchyard.ECONFLICT)
	bad := newTemplate("bad")
	bad.BaseURL = "https://{nope}.example.com"
	err = db.CreateTemplate(ctx, bad)
	wantCode(t, err, switchyard.EINVALID)
	wantField(t, err, "base_url")
	got.Description = "changed"
	if err := db.UpdateTemplate(ctx, got); err != nil {
		t.Fatal(err)
	}
	sys := newTemplate("system-one")
	sys.System, sys.SystemType, sys.CatalogVersion = true, "system-one", 3
	if err := db.CreateTemplate(ctx, sys); err != nil {
		t.Fatal(err)
	}
	yes := true
	page, _ := db.ListTemplates(ctx, switchyard.TemplateFilter{System: &yes})
	if len(page.Items) != 1 || page.Items[0].CatalogVersion != 3 {
		t.Fatalf("system filter: %+v", page.Items)
	}
	wantCode(t, db.DeleteTemplate(ctx, sys.ID, 0), switchyard.EFORBIDDEN)
	wantCode(t, db.DeleteTemplate(ctx, got.ID, 1), switchyard.ESTALE)
	if err := db.DeleteTemplate(ctx, got.ID, got.Version); err != nil {
		t.Fatal(err)
	}
}

func newConnection(owner, provider string, key string) *switchyard.Connection {
	return &switchyard.Connection{Name: "app-" + key, OwnerID: owner, ProviderID: provider, KeyHash: "hash-" + key,
		KeyPrefix: "sy-" + key[:2], Enabled: true, RateLimitRPM: 60, BudgetUSD: 12.5}
}

func testConnectionCRUD(t *testing.T, _ Backend, db *sqlstore.DB) {
	u := mustUser(t, db, "ada", switchyard.RoleUser)
	p := mustCreateProvider(t, db, "conn")
	c := newConnection(u.ID, p.ID, "k1")
	c.Credential = &switchyard.Credential{Name: "byo", Method: switchyard.AuthAPIKey,
		Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret(canaryConnKey)}}
	if err := db.CreateConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetConnectionByKeyHash(ctx, "hash-k1")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != c.ID || got.ProviderID != p.ID || got.OldStyle() || got.BudgetUSD != 12.5 || got.RateLimitRPM != 60 ||
		got.Credential == nil || got.Credential.Secrets["api_key"].Reveal() != canaryConnKey {
		t.Fatalf("got %+v", got)
	}
	old := &switchyard.Connection{Name: "legacy", OwnerID: u.ID, ProviderType: "openai", KeyHash: "hash-k2", KeyPrefix: "sy-k2", Enabled: true}
	if err := db.CreateConnection(ctx, old); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.GetConnection(ctx, old.ID); !got.OldStyle() || got.ProviderID != "" || got.ProviderType != "openai" {
		t.Fatalf("old-style connection = %+v", got)
	}
	dupKey := newConnection(u.ID, p.ID, "k1")
	dupKey.Name = "another"
	err = db.CreateConnection(ctx, dupKey)
	wantCode(t, err, switchyard.ECONFLICT)
	wantField(t, err, "key_hash")
	dupName := newConnection(u.ID, p.ID, "k3")
	dupName.Name = "legacy"
	err = db.CreateConnection(ctx, dupName)
	wantCode(t, err, switchyard.ECONFLICT)
	wantField(t, err, "name")
	ghost := newConnection(u.ID, "00000000-0000-0000-0000-000000000000", "k4")
	err = db.CreateConnection(ctx, ghost)
	wantCode(t, err, switchyard.EINVALID)
	wantField(t, err, "provider_id")
	// Migrate the old-style connection to a provider reference.
	o, _ := db.GetConnection(ctx, old.ID)
	o.ProviderType, o.ProviderID = "", p.ID
	if err := db.UpdateConnection(ctx, o); err != nil {
		t.Fatal(err)
	}
	page, _ := db.ListConnections(ctx, switchyard.ConnectionFilter{ProviderID: p.ID})
	if len(page.Items) != 2 {
		t.Fatalf("connections of provider = %d, want 2", len(page.Items))
	}
	// A sealed secret passed back keeps the stored one.
	got.Credential.Secrets["api_key"] = switchyard.SealedSecret("", nil)
	if err := db.UpdateConnection(ctx, got); err != nil {
		t.Fatal(err)
	}
	if g, _ := db.GetConnection(ctx, c.ID); g.Credential.Secrets["api_key"].Reveal() != canaryConnKey {
		t.Fatal("connection credential lost on update")
	}
	wantCode(t, db.DeleteConnection(ctx, c.ID, 1), switchyard.ESTALE)
	if err := db.DeleteConnection(ctx, c.ID, 0); err != nil {
		t.Fatal(err)
	}
	_, err = db.GetConnectionByKeyHash(ctx, "hash-k1")
	wantCode(t, err, switchyard.ENOTFOUND)
}

func testConnectionRestrict(t *testing.T, _ Backend, db *sqlstore.DB) {
	u := mustUser(t, db, "bob", switchyard.RoleUser)
	p := mustCreateProvider(t, db, "used")
	c := newConnection(u.ID, p.ID, "kk")
	if err := db.CreateConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	err := db.DeleteProvider(ctx, p.ID, 0)
	wantCode(t, err, switchyard.ECONFLICT)
	if !strings.Contains(switchyard.ErrorMessage(err), "1 connection") {
		t.Fatalf("message should count the connections: %v", err)
	}
	// The database enforces it too, not only the store's check.
	if _, err := db.SQL().Exec(`DELETE FROM providers WHERE id = '` + p.ID + `'`); err == nil {
		t.Fatal("the database let a provider with connections be deleted")
	}
	wantCode(t, db.DeleteUser(ctx, u.ID, 0), switchyard.ECONFLICT)
	if err := db.DeleteConnection(ctx, c.ID, 0); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteProvider(ctx, p.ID, 0); err != nil {
		t.Fatal(err)
	}
}

func testUsersAndTokens(t *testing.T, _ Backend, db *sqlstore.DB) {
	u := mustUser(t, db, "carol", switchyard.RoleAdmin)
	u.PasswordHash = "$argon2id$v=19$stub"
	if err := db.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	err := db.CreateUser(ctx, &switchyard.User{Username: "carol", Role: switchyard.RoleUser})
	wantCode(t, err, switchyard.ECONFLICT)
	wantField(t, err, "username")
	err = db.CreateUser(ctx, &switchyard.User{Username: "Bad Name", Role: "root", Email: "nope"})
	wantCode(t, err, switchyard.EINVALID)
	for _, f := range []string{"username", "role", "email"} {
		wantField(t, err, f)
	}
	got, _ := db.GetUserByUsername(ctx, "carol")
	if got.ID != u.ID || got.Role != switchyard.RoleAdmin || got.PasswordHash != u.PasswordHash || got.Version != 2 {
		t.Fatalf("got %+v", got)
	}
	if n, err := db.CountUsers(ctx); err != nil || n != 1 {
		t.Fatalf("count = %d, %v", n, err)
	}
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	tok := &switchyard.APIToken{UserID: u.ID, Name: "ci", Hash: "tokhash", Prefix: "syt_ab", ExpiresAt: &exp}
	if err := db.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.CreateToken(ctx, &switchyard.APIToken{UserID: u.ID, Name: "dup", Hash: "tokhash"}), switchyard.ECONFLICT)
	byHash, err := db.GetTokenByHash(ctx, "tokhash")
	if err != nil || byHash.ID != tok.ID || !byHash.ExpiresAt.Equal(exp) || !byHash.Active(time.Now()) {
		t.Fatalf("token by hash = %+v, %v", byHash, err)
	}
	used := time.Now().UTC().Truncate(time.Second)
	if err := db.TouchToken(ctx, tok.ID, used); err != nil {
		t.Fatal(err)
	}
	if err := db.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	list, _ := db.ListTokens(ctx, u.ID)
	if len(list) != 1 || list[0].RevokedAt == nil || list[0].Active(time.Now()) || !list[0].LastUsedAt.Equal(used) {
		t.Fatalf("tokens = %+v", list)
	}
	wantCode(t, db.RevokeToken(ctx, "00000000-0000-0000-0000-000000000000"), switchyard.ENOTFOUND)
	admins, _ := db.ListUsers(ctx, switchyard.UserFilter{Role: switchyard.RoleAdmin})
	if len(admins.Items) != 1 {
		t.Fatalf("admins = %d", len(admins.Items))
	}
	if err := db.DeleteUser(ctx, u.ID, got.Version); err != nil {
		t.Fatal(err)
	}
	_, err = db.GetTokenByHash(ctx, "tokhash")
	wantCode(t, err, switchyard.ENOTFOUND)
}

func testAudit(t *testing.T, _ Backend, db *sqlstore.DB) {
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range 5 {
		e := &switchyard.AuditEntry{At: base.Add(time.Duration(i) * time.Hour), ActorID: fmt.Sprintf("u%d", i%2),
			ActorName: "someone", Action: "update", ResourceType: "provider", ResourceID: fmt.Sprintf("p%d", i%3),
			Before: []byte(`{"name":"a"}`), After: []byte(`{"name":"b"}`)}
		if err := db.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	all, _ := db.ListAudit(ctx, switchyard.AuditFilter{})
	if len(all.Items) != 5 || !all.Items[0].At.After(all.Items[4].At) {
		t.Fatalf("audit list = %d items, newest first expected", len(all.Items))
	}
	if string(all.Items[0].After) != `{"name":"b"}` && !strings.Contains(string(all.Items[0].After), `"b"`) {
		t.Fatalf("after = %s", all.Items[0].After)
	}
	tests := []struct {
		f    switchyard.AuditFilter
		want int
	}{
		{switchyard.AuditFilter{ActorID: "u0"}, 3},
		{switchyard.AuditFilter{ResourceType: "provider", ResourceID: "p0"}, 2},
		{switchyard.AuditFilter{Since: base.Add(2 * time.Hour)}, 3},
		{switchyard.AuditFilter{Since: base.Add(time.Hour), Until: base.Add(3 * time.Hour)}, 2},
		{switchyard.AuditFilter{ResourceType: "user"}, 0},
	}
	for _, tt := range tests {
		page, err := db.ListAudit(ctx, tt.f)
		if err != nil || len(page.Items) != tt.want {
			t.Errorf("filter %+v: %d items (%v), want %d", tt.f, len(page.Items), err, tt.want)
		}
	}
	first, _ := db.ListAudit(ctx, switchyard.AuditFilter{ListOptions: switchyard.ListOptions{Limit: 3}})
	second, _ := db.ListAudit(ctx, switchyard.AuditFilter{ListOptions: switchyard.ListOptions{Limit: 3, Cursor: first.NextCursor}})
	if len(first.Items) != 3 || len(second.Items) != 2 || second.NextCursor != "" || second.Items[0].ID == first.Items[2].ID {
		t.Fatalf("audit pages %d and %d", len(first.Items), len(second.Items))
	}
}

func testTxRollback(t *testing.T, _ Backend, db *sqlstore.DB) {
	boom := errors.New("boom")
	err := db.InTx(ctx, func(tx switchyard.Store) error {
		p := newProvider("in-tx")
		if err := tx.CreateProvider(ctx, p); err != nil {
			return err
		}
		if err := tx.CreateModel(ctx, newModel(p.ID, "m")); err != nil {
			return err
		}
		// Visible inside the transaction.
		if _, err := tx.GetProviderBySlug(ctx, "in-tx"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx returned %v, want the callback's error", err)
	}
	_, err = db.GetProviderBySlug(ctx, "in-tx")
	wantCode(t, err, switchyard.ENOTFOUND)
	// A constraint failure half-way also leaves nothing.
	mustCreateProvider(t, db, "taken")
	err = db.InTx(ctx, func(tx switchyard.Store) error {
		if err := tx.CreateProvider(ctx, newProvider("first-half")); err != nil {
			return err
		}
		return tx.CreateProvider(ctx, newProvider("taken"))
	})
	wantCode(t, err, switchyard.ECONFLICT)
	_, err = db.GetProviderBySlug(ctx, "first-half")
	wantCode(t, err, switchyard.ENOTFOUND)
	var models, creds int
	db.SQL().QueryRow(`SELECT COUNT(*) FROM models`).Scan(&models)
	db.SQL().QueryRow(`SELECT COUNT(*) FROM provider_credentials`).Scan(&creds)
	if models != 0 || creds != 1 {
		t.Fatalf("after rollbacks: %d models, %d credentials; want 0 and 1", models, creds)
	}
}

func testCheckConstraints(t *testing.T, _ Backend, db *sqlstore.DB) {
	p := mustCreateProvider(t, db, "checks")
	now := "2026-11-01T00:00:00.000000Z"
	raw := []struct {
		name string
		sql  string
	}{
		{"negative price", `INSERT INTO models (id, provider_id, upstream_id, input_per_mtok, created_at, updated_at) VALUES ('m1', '` + p.ID + `', 'x', -1, '` + now + `', '` + now + `')`},
		{"unknown protocol", `INSERT INTO providers (id, name, slug, protocol, base_url, created_at, updated_at) VALUES ('p1', 'n', 's', 'smoke', 'https://x', '` + now + `', '` + now + `')`},
		{"unknown role", `INSERT INTO users (id, username, role, created_at, updated_at) VALUES ('u1', 'n', 'root', '` + now + `', '` + now + `')`},
		{"model of no provider", `INSERT INTO models (id, provider_id, upstream_id, created_at, updated_at) VALUES ('m2', 'nope', 'x', '` + now + `', '` + now + `')`},
		{"unknown health status", `UPDATE providers SET health_status = 'on-fire' WHERE id = '` + p.ID + `'`},
	}
	for _, r := range raw {
		if _, err := db.SQL().Exec(r.sql); err == nil {
			t.Errorf("%s: the database accepted it", r.name)
		}
	}
}

func testNoPlaintext(t *testing.T, b Backend, db *sqlstore.DB) {
	p := mustCreateProvider(t, db, "plain")
	p.Credentials = append(p.Credentials, switchyard.Credential{Name: "aws", Method: switchyard.AuthAWSSigV4,
		Config: map[string]string{"region": "us-east-1"},
		Secrets: map[string]switchyard.Secret{"access_key_id": switchyard.NewSecret("AKIAEXAMPLE"),
			"secret_access_key": switchyard.NewSecret(canaryAWS)}})
	if err := db.UpdateProvider(ctx, p); err != nil {
		t.Fatal(err)
	}
	u := mustUser(t, db, "dora", switchyard.RoleUser)
	c := newConnection(u.ID, p.ID, "kp")
	c.Credential = &switchyard.Credential{Name: "byo", Method: switchyard.AuthAPIKey,
		Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret(canaryConnKey)}}
	if err := db.CreateConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	dump := b.Dump(t, db)
	if len(dump) < 1000 {
		t.Fatalf("the dump is only %d bytes; the test would prove nothing", len(dump))
	}
	if !bytes.Contains(dump, []byte("openai.com")) {
		t.Fatal("the dump does not hold the provider's plain fields; the test would prove nothing")
	}
	for _, canary := range []string{canaryAPIKey, canaryHeader, canaryConnKey, canaryAWS} {
		for i := 0; i+8 <= len(canary); i++ {
			if bytes.Contains(dump, []byte(canary[i:i+8])) {
				t.Fatalf("the stored database contains %q, part of a secret", canary[i:i+8])
			}
		}
	}
}

func testCiphertextBinding(t *testing.T, _ Backend, db *sqlstore.DB) {
	a := mustCreateProvider(t, db, "victim")
	b := newProvider("attacker")
	b.Credentials[0].Secrets["api_key"] = switchyard.NewSecret("sk-attacker-own-key-000000000")
	if err := db.CreateProvider(ctx, b); err != nil {
		t.Fatal(err)
	}
	// Copy the victim's sealed secret into the attacker's credential row.
	if _, err := db.SQL().Exec(`UPDATE provider_credentials SET secrets = (SELECT secrets FROM provider_credentials WHERE provider_id = '` +
		a.ID + `') WHERE provider_id = '` + b.ID + `'`); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetProvider(ctx, b.ID)
	if err != nil {
		t.Fatalf("one undecryptable secret must not hide the provider: %v", err)
	}
	s := got.Credentials[0].Secrets["api_key"]
	if s.Reveal() != "" || s.Err() == nil || switchyard.ErrorCode(s.Err()) != switchyard.ESECRET {
		t.Fatalf("a ciphertext moved to another row opened: value %q err %v", s.Reveal(), s.Err())
	}
	if strings.Contains(s.Err().Error(), canaryAPIKey[3:12]) {
		t.Fatal("the decryption error contains the secret")
	}
	// The victim's own row still opens.
	if v, _ := db.GetProvider(ctx, a.ID); v.Credentials[0].Secrets["api_key"].Reveal() != canaryAPIKey {
		t.Fatal("the victim's secret no longer opens")
	}
}

func testKeyRotation(t *testing.T, _ Backend, db *sqlstore.DB) {
	p := mustCreateProvider(t, db, "rotate")
	before, err := db.KeyStatuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != 1 || !before[0].Active || before[0].Secrets != 2 {
		t.Fatalf("before rotation: %+v; want one active key protecting 2 secrets", before)
	}
	newID, n, err := db.RotateKeys(ctx, MasterKey(t))
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 || newID == before[0].ID {
		t.Fatalf("rotation re-encrypted %d secrets into %q", n, newID)
	}
	after, _ := db.KeyStatuses(ctx)
	counts := map[string]KeyCount{}
	for _, k := range after {
		counts[k.ID] = KeyCount{k.Active, k.Secrets}
	}
	if counts[before[0].ID] != (KeyCount{false, 0}) || counts[newID] != (KeyCount{true, 2}) {
		t.Fatalf("after rotation: %+v", after)
	}
	got, _ := db.GetProvider(ctx, p.ID)
	if got.Credentials[0].Secrets["api_key"].Reveal() != canaryAPIKey || got.Headers["X-Org"].Reveal() != canaryHeader {
		t.Fatal("secrets do not open after rotation")
	}
	// New writes use the new key.
	mustCreateProvider(t, db, "after-rotate")
	after, _ = db.KeyStatuses(ctx)
	for _, k := range after {
		if k.ID == newID && k.Secrets != 4 {
			t.Fatalf("new key protects %d secrets after a new provider, want 4", k.Secrets)
		}
	}
	// Another master key cannot open the keyring, and says so.
	other := MasterKey(t)
	wrong, _ := otherMasterKey(t)
	_ = other
	_, err = db.LoadKeyring(ctx, wrong)
	wantCode(t, err, switchyard.ESECRET)
	if !strings.Contains(err.Error(), wrong.ID()) || !strings.Contains(err.Error(), "SWITCHYARD_MASTER_KEY") {
		t.Fatalf("wrong master key error should name both keys and the setting: %v", err)
	}
}

// KeyCount is a key's state in the rotation test.
type KeyCount struct {
	Active  bool
	Secrets int
}

func testSessions(t *testing.T, _ Backend, db *sqlstore.DB) {
	u := mustUser(t, db, "erin", switchyard.RoleAdmin)
	now := time.Now().UTC().Truncate(time.Second)
	se := &switchyard.Session{UserID: u.ID, Hash: "session-hash", CSRFToken: "csrf", RemoteAddr: "192.0.2.1", ExpiresAt: now.Add(time.Hour)}
	if err := db.CreateSession(ctx, se); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetSessionByHash(ctx, "session-hash", now)
	if err != nil || got.ID != se.ID || got.UserID != u.ID || got.CSRFToken != "csrf" || !got.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("session = %+v, %v", got, err)
	}
	_, err = db.GetSessionByHash(ctx, "session-hash", now.Add(2*time.Hour))
	wantCode(t, err, switchyard.ENOTFOUND)
	if err := db.TouchSession(ctx, se.ID, now.Add(time.Minute), now.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetSessionByHash(ctx, "session-hash", now.Add(2*time.Hour)); err != nil {
		t.Fatalf("touched session expired: %v", err)
	}
	other := &switchyard.Session{UserID: u.ID, Hash: "other", CSRFToken: "c2", ExpiresAt: now.Add(-time.Minute)}
	if err := db.CreateSession(ctx, other); err != nil {
		t.Fatal(err)
	}
	if n, err := db.DeleteExpiredSessions(ctx, now); err != nil || n != 1 {
		t.Fatalf("expired sessions removed: %d, %v", n, err)
	}
	if err := db.CreateSession(ctx, &switchyard.Session{UserID: u.ID, Hash: "session-hash", CSRFToken: "c", ExpiresAt: now.Add(time.Hour)}); switchyard.ErrorCode(err) != switchyard.ECONFLICT {
		t.Fatalf("duplicate session hash: %v", err)
	}
	if n, err := db.DeleteUserSessions(ctx, u.ID); err != nil || n != 1 {
		t.Fatalf("user sessions removed: %d, %v", n, err)
	}
	_, err = db.GetSessionByHash(ctx, "session-hash", now)
	wantCode(t, err, switchyard.ENOTFOUND)
	// Sessions go with their user.
	if err := db.CreateSession(ctx, &switchyard.Session{UserID: u.ID, Hash: "h3", CSRFToken: "c", ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteUser(ctx, u.ID, 0); err != nil {
		t.Fatal(err)
	}
	_, err = db.GetSessionByHash(ctx, "h3", now)
	wantCode(t, err, switchyard.ENOTFOUND)
	tok := &switchyard.APIToken{UserID: mustUser(t, db, "fay", switchyard.RoleUser).ID, Name: "t", Hash: "th", Prefix: "p"}
	if err := db.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if got, err := db.GetToken(ctx, tok.ID); err != nil || got.Hash != "th" {
		t.Fatalf("get token = %+v, %v", got, err)
	}
	_, err = db.GetToken(ctx, "00000000-0000-0000-0000-000000000000")
	wantCode(t, err, switchyard.ENOTFOUND)
}

func usageEvent(at time.Time, i int) switchyard.UsageEvent {
	status := switchyard.UsageOK
	if i%4 == 3 {
		status = switchyard.UsageError
	}
	return switchyard.UsageEvent{At: at, RequestID: fmt.Sprintf("req-%d", i), ConnectionID: fmt.Sprintf("c%d", i%2),
		UserID: "u1", ProviderID: fmt.Sprintf("p%d", i%3), ModelID: fmt.Sprintf("m%d", i%3), Model: "fast",
		UpstreamModel: "gpt-4o-mini", Stream: i%2 == 0, Status: status, HTTPStatus: 200, InputTokens: 100 + i,
		OutputTokens: 20 + i, CachedInputTokens: i, LatencyMS: int64(500 + i), TTFTMS: int64(50 + i),
		CostUSD: float64(i) * 0.00125, Attempts: 1 + i%2}
}

func testUsageAppend(t *testing.T, _ Backend, db *sqlstore.DB) {
	at := time.Date(2026, 11, 1, 12, 30, 15, 123456789, time.FixedZone("CET", 3600))
	events := []switchyard.UsageEvent{usageEvent(at, 3), {Status: switchyard.UsageCancelled}}
	events[0].ErrorClass = "rate_limited"
	events[0].HTTPStatus = 429
	if err := db.AppendUsage(ctx, events); err != nil {
		t.Fatal(err)
	}
	for i, e := range events {
		if e.ID == "" || e.At.IsZero() || e.At.Location() != time.UTC {
			t.Fatalf("event %d: id %q, at %v: want both set, in UTC", i, e.ID, e.At)
		}
	}
	if !events[0].At.Equal(at.Truncate(time.Microsecond)) {
		t.Fatalf("at = %v, want %v truncated to microseconds", events[0].At, at)
	}
	page, err := db.ListUsage(ctx, switchyard.UsageFilter{})
	if err != nil || len(page.Items) != 2 || page.NextCursor != "" {
		t.Fatalf("list = %d items, cursor %q, %v", len(page.Items), page.NextCursor, err)
	}
	var got *switchyard.UsageEvent
	for _, e := range page.Items {
		if e.ID == events[0].ID {
			got = e
		}
	}
	if got == nil || *got != events[0] {
		t.Fatalf("read back\n%+v\nwant\n%+v", got, events[0])
	}
	if err := db.AppendUsage(ctx, nil); err != nil {
		t.Fatalf("empty batch: %v", err)
	}
	// Writes inside a transaction roll back with it.
	boom := errors.New("boom")
	err = db.InTx(ctx, func(tx switchyard.Store) error {
		if err := tx.AppendUsage(ctx, []switchyard.UsageEvent{usageEvent(at, 1)}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v", err)
	}
	if page, _ := db.ListUsage(ctx, switchyard.UsageFilter{}); len(page.Items) != 2 {
		t.Fatalf("%d events after a rolled back append, want 2", len(page.Items))
	}
}

func testUsageSpendAndLastUsed(t *testing.T, _ Backend, db *sqlstore.DB) {
	u := mustUser(t, db, "spender", switchyard.RoleUser)
	p := mustCreateProvider(t, db, "spend")
	a, b := newConnection(u.ID, p.ID, "sa"), newConnection(u.ID, p.ID, "sb")
	for _, c := range []*switchyard.Connection{a, b} {
		if err := db.CreateConnection(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	month := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	ev := func(conn string, at time.Time, usd float64) switchyard.UsageEvent {
		return switchyard.UsageEvent{At: at, ConnectionID: conn, Status: switchyard.UsageOK, CostUSD: usd}
	}
	last := month.Add(36 * time.Hour)
	if err := db.AppendUsage(ctx, []switchyard.UsageEvent{
		ev(a.ID, month.Add(-time.Second), 100), // last month: not counted
		ev(a.ID, month, 1.25), ev(a.ID, last, 2.5), ev(a.ID, month.Add(time.Hour), 0.25),
		ev(b.ID, month.Add(2*time.Hour), 7), ev("other", month, 9),
	}); err != nil {
		t.Fatal(err)
	}
	got, err := db.ConnectionSpend(ctx, []string{a.ID, b.ID, "never-used"}, month)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || math.Abs(got[a.ID]-4) > 1e-9 || math.Abs(got[b.ID]-7) > 1e-9 {
		t.Fatalf("spend = %v, want %s: 4, %s: 7 and nothing else", got, a.ID, b.ID)
	}
	if got, err := db.ConnectionSpend(ctx, nil, month); err != nil || len(got) != 0 {
		t.Fatalf("spend of no connections = %v, %v", got, err)
	}
	// Each connection's last use is its newest event; an older batch
	// written later does not move it back, and using it is not an edit.
	c, err := db.GetConnection(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.LastUsedAt == nil || !c.LastUsedAt.Equal(last) || c.Version != a.Version {
		t.Fatalf("last used = %v (version %d), want %v (version %d)", c.LastUsedAt, c.Version, last, a.Version)
	}
	if err := db.AppendUsage(ctx, []switchyard.UsageEvent{ev(a.ID, month.Add(time.Minute), 0)}); err != nil {
		t.Fatal(err)
	}
	if c, _ := db.GetConnection(ctx, a.ID); c.LastUsedAt == nil || !c.LastUsedAt.Equal(last) {
		t.Fatalf("an older event moved last used back to %v", c.LastUsedAt)
	}
}

func testUsageBatchAtomic(t *testing.T, _ Backend, db *sqlstore.DB) {
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	batch := make([]switchyard.UsageEvent, 250)
	for i := range batch {
		batch[i] = usageEvent(at, i)
	}
	batch[201].Status = "lost"
	batch[7].InputTokens = -1
	err := db.AppendUsage(ctx, batch)
	wantCode(t, err, switchyard.EINVALID)
	wantField(t, err, "[201].status")
	wantField(t, err, "[7].input_tokens")
	if page, _ := db.ListUsage(ctx, switchyard.UsageFilter{}); len(page.Items) != 0 {
		t.Fatalf("%d events stored from an invalid batch, want none", len(page.Items))
	}
	// Mended, the same batch is stored whole.
	batch[201].Status, batch[7].InputTokens = switchyard.UsageOK, 1
	if err := db.AppendUsage(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if n := countUsage(t, db, switchyard.UsageFilter{}); n != 250 {
		t.Fatalf("%d events stored, want 250", n)
	}
}

func testUsageIdempotent(t *testing.T, _ Backend, db *sqlstore.DB) {
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	batch := make([]switchyard.UsageEvent, 130)
	for i := range batch {
		batch[i] = usageEvent(at.Add(time.Duration(i)*time.Second), i)
	}
	if err := db.AppendUsage(ctx, batch[:60]); err != nil {
		t.Fatal(err)
	}
	// The retry of a batch whose first part was stored (its ids were set
	// in place) stores only the rest.
	if err := db.AppendUsage(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendUsage(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if n := countUsage(t, db, switchyard.UsageFilter{}); n != 130 {
		t.Fatalf("%d events stored, want 130", n)
	}
}

// Full chunks of a batch go through a prepared statement: in a caller's
// transaction too, rolled back with it, and stored when it commits.
func testUsageFullChunksInTx(t *testing.T, _ Backend, db *sqlstore.DB) {
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	batch := make([]switchyard.UsageEvent, 200)
	for i := range batch {
		batch[i] = usageEvent(at, i)
	}
	undo := errors.New("undo")
	err := db.InTx(ctx, func(tx switchyard.Store) error {
		if err := tx.AppendUsage(ctx, batch); err != nil {
			return err
		}
		return undo
	})
	if !errors.Is(err, undo) {
		t.Fatalf("InTx = %v", err)
	}
	if n := countUsage(t, db, switchyard.UsageFilter{}); n != 0 {
		t.Fatalf("%d events stored by a rolled back transaction", n)
	}
	if err := db.InTx(ctx, func(tx switchyard.Store) error { return tx.AppendUsage(ctx, batch) }); err != nil {
		t.Fatal(err)
	}
	// And outside one, twice (prepared once, then reused).
	more := make([]switchyard.UsageEvent, 200)
	for i := range more {
		more[i] = usageEvent(at, 1000+i)
	}
	if err := db.AppendUsage(ctx, more[:100]); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendUsage(ctx, more[100:]); err != nil {
		t.Fatal(err)
	}
	if n := countUsage(t, db, switchyard.UsageFilter{}); n != 400 {
		t.Fatalf("%d events stored, want 400", n)
	}
}

func testUsageFilters(t *testing.T, _ Backend, db *sqlstore.DB) {
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	batch := make([]switchyard.UsageEvent, 24)
	for i := range batch {
		batch[i] = usageEvent(base.Add(time.Duration(i)*time.Hour), i)
	}
	if err := db.AppendUsage(ctx, batch); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    switchyard.UsageFilter
		want int
	}{
		{"all", switchyard.UsageFilter{}, 24},
		{"since is inclusive", switchyard.UsageFilter{Since: base.Add(20 * time.Hour)}, 4},
		{"until is exclusive", switchyard.UsageFilter{Until: base.Add(3 * time.Hour)}, 3},
		{"a range", switchyard.UsageFilter{Since: base.Add(6 * time.Hour), Until: base.Add(12 * time.Hour)}, 6},
		{"connection", switchyard.UsageFilter{ConnectionID: "c1"}, 12},
		{"provider", switchyard.UsageFilter{ProviderID: "p2"}, 8},
		{"model", switchyard.UsageFilter{ModelID: "m0"}, 8},
		{"status", switchyard.UsageFilter{Status: switchyard.UsageError}, 6},
		{"everything at once", switchyard.UsageFilter{Since: base.Add(time.Hour), Until: base.Add(22 * time.Hour),
			ConnectionID: "c1", ProviderID: "p0", Status: switchyard.UsageError}, 2},
		{"nothing", switchyard.UsageFilter{ProviderID: "none"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := db.ListUsage(ctx, tt.f)
			if err != nil || len(page.Items) != tt.want {
				t.Fatalf("%d items (%v), want %d", len(page.Items), err, tt.want)
			}
			for i, e := range page.Items {
				if (!tt.f.Since.IsZero() && e.At.Before(tt.f.Since)) || (!tt.f.Until.IsZero() && !e.At.Before(tt.f.Until)) ||
					(tt.f.ConnectionID != "" && e.ConnectionID != tt.f.ConnectionID) ||
					(tt.f.ProviderID != "" && e.ProviderID != tt.f.ProviderID) || (tt.f.Status != "" && e.Status != tt.f.Status) {
					t.Fatalf("item %d does not match the filter: %+v", i, e)
				}
			}
		})
	}
	_, err := db.ListUsage(ctx, switchyard.UsageFilter{ListOptions: switchyard.ListOptions{Cursor: "not a cursor"}})
	wantCode(t, err, switchyard.EINVALID)
	_, err = db.ListUsage(ctx, switchyard.UsageFilter{ListOptions: switchyard.ListOptions{Limit: switchyard.MaxPageSize + 1}})
	wantCode(t, err, switchyard.EINVALID)
}

// testUsagePagination pages through events of which many share a
// timestamp and whose ids do not follow their times: the pages must still
// come newest first, with no event repeated or skipped.
func testUsagePagination(t *testing.T, _ Backend, db *sqlstore.DB) {
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	batch := make([]switchyard.UsageEvent, 53)
	for i := range batch {
		batch[i] = usageEvent(base.Add(time.Duration(i%7)*time.Minute), i)
		batch[i].ID = fmt.Sprintf("e-%03d", (i*31)%53)
	}
	if err := db.AppendUsage(ctx, batch); err != nil {
		t.Fatal(err)
	}
	var got []*switchyard.UsageEvent
	f := switchyard.UsageFilter{ListOptions: switchyard.ListOptions{Limit: 5}}
	for pages := 0; ; pages++ {
		if pages > 20 {
			t.Fatal("pagination does not end")
		}
		page, err := db.ListUsage(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page.Items...)
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	if len(got) != len(batch) {
		t.Fatalf("%d events over all pages, want %d", len(got), len(batch))
	}
	seen := map[string]bool{}
	for i, e := range got {
		if seen[e.ID] {
			t.Fatalf("event %s repeated", e.ID)
		}
		seen[e.ID] = true
		if i > 0 {
			prev := got[i-1]
			if e.At.After(prev.At) || (e.At.Equal(prev.At) && e.ID > prev.ID) {
				t.Fatalf("item %d (%v %s) comes after (%v %s): not newest first", i, e.At, e.ID, prev.At, prev.ID)
			}
		}
	}
	// The cursor combines with filters.
	f = switchyard.UsageFilter{ListOptions: switchyard.ListOptions{Limit: 2}, ProviderID: "p1", Since: base.Add(2 * time.Minute)}
	want := 0
	for _, e := range batch {
		if e.ProviderID == "p1" && !e.At.Before(base.Add(2*time.Minute)) {
			want++
		}
	}
	if n := countUsage(t, db, f); n != want {
		t.Fatalf("filtered pages hold %d events, want %d", n, want)
	}
}

// countUsage follows every page of f and counts the events.
func countUsage(t *testing.T, db *sqlstore.DB, f switchyard.UsageFilter) int {
	t.Helper()
	n := 0
	for {
		page, err := db.ListUsage(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Items)
		if page.NextCursor == "" {
			return n
		}
		f.Cursor = page.NextCursor
	}
}

func rollup(res switchyard.Resolution, at time.Time, provider, conn string, requests int64) switchyard.UsageRollup {
	return switchyard.UsageRollup{Resolution: res, Bucket: at, ProviderID: provider, ModelID: "m-" + provider,
		ConnectionID: conn, UserID: "u-" + conn, Requests: requests, Errors: 1, Cancelled: 2,
		ErrorClasses: map[string]int64{"rate_limited": 1}, InputTokens: 1000 * requests, OutputTokens: 100 * requests,
		CachedInputTokens: 10, CostUSD: 0.25 * float64(requests), LatencySumMS: 400 * requests,
		Latency: []byte{1, 5, 3}, TTFTCount: 2, TTFTSumMS: 90, TTFT: []byte{1, 2, 2}}
}

func listRollups(t *testing.T, db *sqlstore.DB, f switchyard.RollupFilter) []switchyard.UsageRollup {
	t.Helper()
	var out []switchyard.UsageRollup
	err := db.ListRollups(ctx, f, func(r *switchyard.UsageRollup) error {
		c := *r
		c.Latency, c.TTFT = append([]byte(nil), r.Latency...), append([]byte(nil), r.TTFT...)
		out = append(out, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func testRollupsReplace(t *testing.T, _ Backend, db *sqlstore.DB) {
	minute := switchyard.ResolutionMinute
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	mark := t0.Add(3 * time.Minute)
	rows := []switchyard.UsageRollup{rollup(minute, t0, "p1", "c1", 3), rollup(minute, t0, "p2", "c1", 4),
		rollup(minute, t0.Add(2*time.Minute), "p1", "c2", 5)}
	if err := db.ReplaceRollups(ctx, minute, t0, mark, rows, mark); err != nil {
		t.Fatal(err)
	}
	got := listRollups(t, db, switchyard.RollupFilter{Resolution: minute})
	if len(got) != 3 || !got[0].Bucket.Equal(t0) || !got[2].Bucket.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("rollups = %+v", got)
	}
	want := rows[2]
	if g := got[2]; g.Requests != 5 || g.Errors != 1 || g.Cancelled != 2 || g.ErrorClasses["rate_limited"] != 1 ||
		g.InputTokens != 5000 || g.OutputTokens != 500 || g.CachedInputTokens != 10 || g.CostUSD != 1.25 ||
		g.LatencySumMS != 2000 || string(g.Latency) != string(want.Latency) || g.TTFTCount != 2 || g.TTFTSumMS != 90 ||
		string(g.TTFT) != string(want.TTFT) || g.UserID != "u-c2" || g.ModelID != "m-p1" || g.Resolution != minute {
		t.Fatalf("stored %+v, want %+v", g, want)
	}
	if wm, err := db.RollupWatermark(ctx); err != nil || !wm.Equal(mark) {
		t.Fatalf("watermark = %v, %v", wm, err)
	}

	// Replacing a window rewrites it and leaves the rest; doing it twice
	// changes nothing; the watermark never moves back.
	again := []switchyard.UsageRollup{rollup(minute, t0.Add(2*time.Minute), "p1", "c2", 9)}
	for range 2 {
		if err := db.ReplaceRollups(ctx, minute, t0.Add(time.Minute), mark, again, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	got = listRollups(t, db, switchyard.RollupFilter{Resolution: minute})
	if len(got) != 3 || got[2].Requests != 9 || got[0].Requests+got[1].Requests != 7 {
		t.Fatalf("after replace: %+v", got)
	}
	if wm, _ := db.RollupWatermark(ctx); !wm.Equal(mark) {
		t.Fatalf("watermark moved back to %v", wm)
	}
	// Rows outside the window, or of another resolution, are refused.
	err := db.ReplaceRollups(ctx, minute, t0, t0.Add(time.Minute), []switchyard.UsageRollup{rollup(minute, t0.Add(time.Minute), "p", "c", 1)}, time.Time{})
	wantCode(t, err, switchyard.EINVALID)
	err = db.ReplaceRollups(ctx, switchyard.ResolutionHour, t0, t0.Add(time.Hour), []switchyard.UsageRollup{rollup(minute, t0, "p", "c", 1)}, time.Time{})
	wantCode(t, err, switchyard.EINVALID)
	if got := listRollups(t, db, switchyard.RollupFilter{Resolution: minute}); len(got) != 3 {
		t.Fatalf("a refused replace changed rows: %+v", got)
	}
}

func testRollupsFilters(t *testing.T, _ Backend, db *sqlstore.DB) {
	hour := switchyard.ResolutionHour
	t0 := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	var rows []switchyard.UsageRollup
	for h := range 5 {
		for _, p := range []string{"p1", "p2"} {
			for _, c := range []string{"c1", "c2", "c3"} {
				rows = append(rows, rollup(hour, t0.Add(time.Duration(h)*time.Hour), p, c, 1))
			}
		}
	}
	if err := db.ReplaceRollups(ctx, hour, t0, t0.Add(24*time.Hour), rows, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := db.ReplaceRollups(ctx, switchyard.ResolutionMinute, t0, t0.Add(time.Minute),
		[]switchyard.UsageRollup{rollup(switchyard.ResolutionMinute, t0, "p1", "c1", 1)}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	// The totals of a model over every connection, and of a connection
	// over every model, apart from the rest.
	all := switchyard.RollupAll
	model := rollup(hour, t0.Add(time.Hour), "p1", all, 3)
	model.UserID = all
	conn := rollup(hour, t0.Add(time.Hour), all, "c2", 3)
	conn.ModelID = all
	if err := db.ReplaceRollups(ctx, hour, t0.Add(time.Hour), t0.Add(2*time.Hour), append(rows[6:12:12], model, conn), time.Time{}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		f    switchyard.RollupFilter
		n    int
	}{
		{"all", switchyard.RollupFilter{}, 30},
		{"range", switchyard.RollupFilter{Since: t0.Add(time.Hour), Until: t0.Add(3 * time.Hour)}, 12},
		{"provider", switchyard.RollupFilter{ProviderID: "p2"}, 15},
		{"model", switchyard.RollupFilter{ModelID: "m-p1"}, 15},
		{"connection", switchyard.RollupFilter{ConnectionID: "c3"}, 10},
		{"connections", switchyard.RollupFilter{ConnectionIDs: []string{"c1", "c3"}}, 20},
		{"no connections", switchyard.RollupFilter{ConnectionIDs: []string{}}, 0},
		{"together", switchyard.RollupFilter{ProviderID: "p1", ConnectionIDs: []string{"c2"}, Until: t0.Add(2 * time.Hour)}, 2},
		{"model totals", switchyard.RollupFilter{Kind: switchyard.RollupModelTotals}, 1},
		{"model totals of p2", switchyard.RollupFilter{Kind: switchyard.RollupModelTotals, ProviderID: "p2"}, 0},
		{"connection totals", switchyard.RollupFilter{Kind: switchyard.RollupConnectionTotals}, 1},
		{"connection totals of c2", switchyard.RollupFilter{Kind: switchyard.RollupConnectionTotals, ConnectionIDs: []string{"c1", "c2"}}, 1},
		{"connection totals of c1", switchyard.RollupFilter{Kind: switchyard.RollupConnectionTotals, ConnectionID: "c1"}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.Resolution = hour
			got := listRollups(t, db, tt.f)
			if len(got) != tt.n {
				t.Fatalf("%d rollups, want %d", len(got), tt.n)
			}
			for i := 1; i < len(got); i++ {
				if got[i].Bucket.Before(got[i-1].Bucket) {
					t.Fatal("not oldest first")
				}
			}
		})
	}
	err := db.ListRollups(ctx, switchyard.RollupFilter{Resolution: "week"}, func(*switchyard.UsageRollup) error { return nil })
	wantCode(t, err, switchyard.EINVALID)
}

func testRollupsScanAndPrune(t *testing.T, _ Backend, db *sqlstore.DB) {
	if first, err := db.FirstUsage(ctx); err != nil || !first.IsZero() {
		t.Fatalf("first usage of none = %v, %v", first, err)
	}
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	var events []switchyard.UsageEvent
	for i := range 10 {
		events = append(events, usageEvent(t0.Add(time.Duration(i)*time.Minute), i))
	}
	if err := db.AppendUsage(ctx, events); err != nil {
		t.Fatal(err)
	}
	if first, err := db.FirstUsage(ctx); err != nil || !first.Equal(t0) {
		t.Fatalf("first usage = %v, %v", first, err)
	}
	var seen []switchyard.UsageEvent
	err := db.ScanUsage(ctx, t0.Add(2*time.Minute), t0.Add(5*time.Minute), func(e *switchyard.UsageEvent) error {
		seen = append(seen, *e)
		return nil
	})
	if err != nil || len(seen) != 3 || !seen[0].At.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("scan = %+v, %v", seen, err)
	}
	w := events[3]
	if g := seen[1]; g.ConnectionID != w.ConnectionID || g.UserID != w.UserID || g.ProviderID != w.ProviderID ||
		g.ModelID != w.ModelID || g.Status != w.Status || g.InputTokens != w.InputTokens || g.OutputTokens != w.OutputTokens ||
		g.CachedInputTokens != w.CachedInputTokens || g.LatencyMS != w.LatencyMS || g.TTFTMS != w.TTFTMS || g.CostUSD != w.CostUSD {
		t.Fatalf("scanned %+v, stored %+v", g, w)
	}
	if n, err := db.PruneUsage(ctx, t0.Add(4*time.Minute)); err != nil || n != 4 {
		t.Fatalf("pruned %d, %v", n, err)
	}
	if n := countUsage(t, db, switchyard.UsageFilter{}); n != 6 {
		t.Fatalf("%d events left", n)
	}

	minute := switchyard.ResolutionMinute
	if err := db.ReplaceRollups(ctx, minute, t0, t0.Add(time.Hour), []switchyard.UsageRollup{
		rollup(minute, t0, "p", "c", 1), rollup(minute, t0.Add(30*time.Minute), "p", "c", 1)}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := db.ReplaceRollups(ctx, switchyard.ResolutionHour, t0, t0.Add(time.Hour), []switchyard.UsageRollup{
		rollup(switchyard.ResolutionHour, t0, "p", "c", 2)}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if n, err := db.PruneRollups(ctx, minute, t0.Add(10*time.Minute)); err != nil || n != 1 {
		t.Fatalf("pruned %d minute rollups, %v", n, err)
	}
	if got := listRollups(t, db, switchyard.RollupFilter{Resolution: switchyard.ResolutionHour}); len(got) != 1 {
		t.Fatalf("pruning minutes took hours: %+v", got)
	}
}
