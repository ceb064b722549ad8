package legacy_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/legacy"
	"github.com/switchyard/switchyard/provider/fake"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

const (
	openaiKey    = "sk-openai-upstream-key-0123456789"
	compatKey    = "sk-compat-upstream-key-0123456789"
	azureKey     = "azure-upstream-key-0123456789abcdef"
	anthropicKey = "sk-ant-upstream-key-0123456789abcdef"
	awsKeyID     = "AKIALEGACYTEST0001"
	awsSecret    = "aws-secret-access-key-0123456789abcdef"
)

// fakesConfig is a LiteLLM config with one entry per protocol, each
// pointing at a fake upstream.
const fakesConfig = `
model_list:
  - model_name: default-gpt
    litellm_params:
      model: gpt-4o
      api_key: os.environ/OPENAI_API_KEY
  - model_name: compat-chat
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: {{compat}}/v1
      api_key: os.environ/COMPAT_KEY
      timeout: 30
      rpm: 600
      input_cost_per_token: 0.00000015
      output_cost_per_token: 0.0000006
  - model_name: azure-chat
    litellm_params:
      model: azure/gpt-4o-mini
      api_base: {{azure}}
      api_version: "2024-10-21"
      api_key: ` + azureKey + `
  - model_name: claude
    litellm_params:
      model: anthropic/claude-sonnet-4-5-20250929
      api_base: {{anthropic}}
      api_key: os.environ/ANTHROPIC_API_KEY
  - model_name: nova
    litellm_params:
      model: bedrock/amazon.nova-lite-v1:0
      aws_region_name: eu-west-1
      aws_bedrock_runtime_endpoint: {{bedrock}}
      aws_access_key_id: os.environ/AWS_ACCESS_KEY_ID
      aws_secret_access_key: os.environ/AWS_SECRET_ACCESS_KEY
  - model_name: vertex-flash
    litellm_params:
      model: vertex_ai/gemini-2.5-flash
      vertex_project: proj-1
      vertex_location: us-central1
      api_base: {{vertex}}
      vertex_credentials: os.environ/VERTEX_SA
  - model_name: sagemaker-model
    litellm_params:
      model: sagemaker/some-endpoint
router_settings:
  fallbacks: [{"claude": ["compat-chat"]}]
`

type fakes struct {
	openai    *fake.OpenAI
	compat    *fake.OpenAI
	azure     *fake.Azure
	anthropic *fake.Anthropic
	bedrock   *fake.Bedrock
	vertex    *fake.Gemini
	config    []byte
	env       map[string]string
}

func startFakes(t *testing.T, r *rig) *fakes {
	f := &fakes{
		openai:    fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{openaiKey}}),
		compat:    fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{compatKey}}),
		azure:     fake.NewAzure(fake.AzureConfig{APIKeys: []string{azureKey}}),
		anthropic: fake.NewAnthropic(fake.AnthropicConfig{APIKeys: []string{anthropicKey}}),
		bedrock:   fake.NewBedrock(fake.BedrockConfig{AccessKeys: map[string]string{awsKeyID: awsSecret}, Region: "eu-west-1"}),
		vertex:    fake.NewGemini(fake.GeminiConfig{Vertex: true, Project: "proj-1", Location: "us-central1"}),
	}
	cfg := strings.NewReplacer("{{compat}}", r.upstream(f.compat), "{{azure}}", r.upstream(f.azure), "{{anthropic}}", r.upstream(f.anthropic),
		"{{bedrock}}", r.upstream(f.bedrock), "{{vertex}}", r.upstream(f.vertex)).Replace(fakesConfig)
	f.config = []byte(cfg)
	// The built-in OpenAI provider, without a key, points at its fake
	// (an admin's edit, before the migration).
	sys, err := r.db.GetProviderBySlug(ctx, "openai")
	if err != nil {
		t.Fatal(err)
	}
	sys.BaseURL = r.upstream(f.openai) + "/v1"
	if err := r.store.UpdateProvider(ctx, sys); err != nil {
		t.Fatal(err)
	}
	f.env = map[string]string{"OPENAI_API_KEY": openaiKey, "COMPAT_KEY": compatKey, "ANTHROPIC_API_KEY": anthropicKey, "AWS_ACCESS_KEY_ID": awsKeyID,
		"AWS_SECRET_ACCESS_KEY": awsSecret, "VERTEX_SA": serviceAccount(t, r.tokens.URL+"/token")}
	return f
}

func serviceAccount(t *testing.T, tokenURI string) string {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": "proj-1", "private_key_id": "kid-1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "gateway@proj-1.iam.gserviceaccount.com", "token_uri": tokenURI})
	return string(b)
}

// TestLiteLLMMigratesRoutesAndRollsBack: a LiteLLM config with OpenAI-
// compatible, Azure, Anthropic, Bedrock and Vertex entries plans, applies in
// one go, serves every model_name through the gateway from its fake, and
// rolls back to an export equal byte for byte to the one before, on
// SQLite and on PostgreSQL.
func TestLiteLLMMigratesRoutesAndRollsBack(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) { testLiteLLMMigratesRoutesAndRollsBack(t, newRigOn(t, b)) })
	}
}

func testLiteLLMMigratesRoutesAndRollsBack(t *testing.T, r *rig) {
	f := startFakes(t, r)
	_, key := r.connect(switchyard.Connection{Name: "everything", Models: []string{"default-gpt", "compat-chat", "azure-chat", "claude", "nova", "vertex-flash"}})
	before := r.export()
	src := legacy.Sources{LiteLLM: f.config, Resolve: env(f.env)}

	rep, err := legacy.Plan(ctx, r.store, src)
	if err != nil {
		t.Fatal(err)
	}
	if it := item(t, rep, legacy.SourceLiteLLM, "default-gpt"); it.Target != "openai/gpt-4o" {
		t.Errorf("an OpenAI entry without api_base lands on the built-in provider: %+v", it)
	}
	for _, k := range []string{"default-gpt", "compat-chat", "azure-chat", "claude", "nova", "vertex-flash"} {
		if it := item(t, rep, legacy.SourceLiteLLM, k); it.Status == legacy.CannotMap {
			t.Errorf("%s: %+v", k, it)
		}
	}
	if it := item(t, rep, legacy.SourceLiteLLM, "sagemaker-model"); it.Status != legacy.CannotMap || !strings.Contains(it.Reason, "sagemaker") {
		t.Errorf("sagemaker: %+v", it)
	}
	if it := item(t, rep, legacy.SourceLiteLLM, "claude → compat-chat"); it.Status != legacy.CannotMap || !strings.Contains(it.Reason, "same model") {
		t.Errorf("fallback to another model: %+v", it)
	}
	if got := r.export(); got != before {
		t.Fatal("planning wrote something")
	}

	res, err := legacy.Apply(ctx, r.store, src, legacy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.ID == "" || len(res.Changes) == 0 {
		t.Fatalf("apply = %+v", res)
	}
	for name, up := range map[string]interface{ RequestCount() int }{"default-gpt": f.openai, "compat-chat": f.compat, "azure-chat": f.azure, "claude": f.anthropic,
		"nova": f.bedrock, "vertex-flash": f.vertex} {
		n := up.RequestCount()
		if status, body := r.chat(key, name); status != 200 {
			t.Errorf("%s through the gateway: %d %s", name, status, body)
		}
		if up.RequestCount() != n+1 {
			t.Errorf("%s did not reach its fake", name)
		}
	}
	compat, err := r.db.GetProviderBySlug(ctx, strings.Split(item(t, rep, legacy.SourceLiteLLM, "compat-chat").Target, "/")[0])
	if err != nil {
		t.Fatal(err)
	}
	if compat.Settings.TimeoutMS != 30000 || compat.Settings.RateLimitRPM != 600 || compat.Credentials[0].Secrets["api_key"].Reveal() != compatKey {
		t.Errorf("compat provider settings %+v", compat.Settings)
	}
	models, err := r.db.ListModels(ctx, switchyard.ModelFilter{ProviderID: compat.ID})
	if err != nil || len(models.Items) != 1 || models.Items[0].Pricing.InputPerMTok != 0.15 || models.Items[0].Pricing.OutputPerMTok != 0.6 ||
		models.Items[0].Sources["pricing"] != switchyard.SourceOverride || models.Items[0].Aliases[0] != "compat-chat" {
		t.Errorf("compat model: %+v, %v", models.Items, err)
	}

	rb, err := legacy.Rollback(ctx, r.store, "", false, legacy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rb.ID != res.ID || len(rb.Restored) != len(res.Changes) {
		t.Fatalf("rollback = %+v", rb)
	}
	if after := r.export(); after != before {
		t.Fatalf("rollback did not restore the configuration:\nbefore %s\nafter %s", before, after)
	}
	if status, _ := r.chat(key, "claude"); status != 404 {
		t.Errorf("after rollback claude answers %d", status)
	}
	_, err = legacy.Rollback(ctx, r.store, res.ID, false, legacy.Options{})
	wantCode(t, err, switchyard.ECONFLICT)
	m, err := r.db.GetLegacyMigration(ctx, res.ID)
	if err != nil || m.RolledBackAt == nil {
		t.Fatalf("record: %+v, %v", m, err)
	}
}

// TestRollbackRefusesAfterLaterEdit: an edit after the migration blocks
// its rollback, named in the message, unless forced.
func TestRollbackRefusesAfterLaterEdit(t *testing.T) {
	r := newRig(t)
	f := startFakes(t, r)
	before := r.export()
	res, err := legacy.Apply(ctx, r.store, legacy.Sources{LiteLLM: f.config, Resolve: env(f.env)}, legacy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	slug := strings.Split(item(t, res.Report, legacy.SourceLiteLLM, "claude").Target, "/")[0]
	p, err := r.db.GetProviderBySlug(ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	p.Name = "Renamed by an admin"
	if err := r.store.UpdateProvider(ctx, p); err != nil {
		t.Fatal(err)
	}
	_, err = legacy.Rollback(ctx, r.store, res.ID, false, legacy.Options{})
	wantCode(t, err, switchyard.ECONFLICT)
	if msg := switchyard.ErrorMessage(err); !strings.Contains(msg, "provider "+slug+" was changed since") || !strings.Contains(msg, "force") {
		t.Fatalf("message: %s", msg)
	}
	rb, err := legacy.Rollback(ctx, r.store, res.ID, true, legacy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rb.Overridden) != 1 {
		t.Errorf("overridden = %v", rb.Overridden)
	}
	if after := r.export(); after != before {
		t.Fatal("a forced rollback did not restore the configuration")
	}
}

// TestOldStyleConnectionBeforeAndAfter: an old-style connection is served
// by its system provider before the migration, by the provider it now
// names after it, and again by type after the rollback.
func TestOldStyleConnectionBeforeAndAfter(t *testing.T) {
	r := newRig(t)
	up := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{compatKey}})
	sys, err := r.db.GetProviderBySlug(ctx, "openai")
	if err != nil {
		t.Fatal(err)
	}
	conn, key := r.connect(switchyard.Connection{Name: "old-style", ProviderType: "openai"})
	// Not served while its system provider has no key; the plan says so.
	rep, err := legacy.Plan(ctx, r.store, legacy.Sources{Connections: true})
	if err != nil {
		t.Fatal(err)
	}
	if it := item(t, rep, legacy.SourceConnections, "app-owner/old-style"); it.Status != legacy.CannotMap || !strings.Contains(it.Reason, "--from-env") {
		t.Fatalf("without a key: %+v", it)
	}
	sys.BaseURL = r.upstream(up) + "/v1"
	if err := r.store.UpdateProvider(ctx, sys); err != nil {
		t.Fatal(err)
	}
	// With --from-env the system provider gets its key and the connection
	// moves to it, in one migration.
	before := r.export()
	res, err := legacy.Apply(ctx, r.store, legacy.Sources{Connections: true, Env: env(map[string]string{"OPENAI_API_KEY": compatKey})}, legacy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if it := item(t, res.Report, legacy.SourceEnv, "OPENAI_API_KEY"); it.Status != legacy.MapsCleanly || it.Target != "openai" {
		t.Errorf("env item: %+v", it)
	}
	if it := item(t, res.Report, legacy.SourceConnections, "app-owner/old-style"); it.Status != legacy.MapsCleanly || it.Target != "openai" {
		t.Errorf("connection item: %+v", it)
	}
	got, _ := r.db.GetConnection(ctx, conn.ID)
	if got.ProviderID != sys.ID || got.ProviderType != "" {
		t.Fatalf("migrated connection: %+v", got)
	}
	if status, body := r.chat(key, "gpt-4o-mini"); status != 200 || up.RequestCount() != 1 {
		t.Fatalf("after migration: %d %s", status, body)
	}
	if _, err := legacy.Rollback(ctx, r.store, res.ID, false, legacy.Options{}); err != nil {
		t.Fatal(err)
	}
	if after := r.export(); after != before {
		t.Fatalf("rollback:\nbefore %s\nafter %s", before, after)
	}
	got, _ = r.db.GetConnection(ctx, conn.ID)
	if got.ProviderID != "" || got.ProviderType != "openai" {
		t.Fatalf("rolled back connection: %+v", got)
	}
	// Enabled by hand with a key: the old-style connection works by type,
	// and migrating it keeps it working.
	sys, _ = r.db.GetProvider(ctx, sys.ID)
	sys.Enabled = true
	sys.Credentials[0].Secrets = map[string]switchyard.Secret{"api_key": switchyard.NewSecret(compatKey)}
	if err := r.store.UpdateProvider(ctx, sys); err != nil {
		t.Fatal(err)
	}
	if status, body := r.chat(key, "gpt-4o-mini"); status != 200 {
		t.Fatalf("old style, before: %d %s", status, body)
	}
	if _, err := legacy.Apply(ctx, r.store, legacy.Sources{Connections: true}, legacy.Options{}); err != nil {
		t.Fatal(err)
	}
	if status, body := r.chat(key, "gpt-4o-mini"); status != 200 || up.RequestCount() != 3 {
		t.Fatalf("old style, after: %d %s", status, body)
	}
}

// TestEnvironmentReferencesOutsideSecretsNeverResolve: os.environ/ in
// api_base (here the database URL) is never looked up, neither by the
// server (no resolver) nor by the command line (a resolver asked only for
// secret fields), and Switchyard's own settings are never read as secrets.
func TestEnvironmentReferencesOutsideSecretsNeverResolve(t *testing.T) {
	r := newRig(t)
	const dbURL = "postgres://admin:db-password-canary@db.internal/switchyard"
	const master = "master-key-canary-0123456789abcdef"
	cfg := []byte(`
model_list:
  - model_name: leak
    litellm_params:
      model: openai/gpt-4o
      api_base: os.environ/DATABASE_URL
      api_key: os.environ/OPENAI_API_KEY
  - model_name: master
    litellm_params:
      model: anthropic/claude-sonnet-4-5
      api_key: os.environ/SWITCHYARD_MASTER_KEY
`)
	var asked []string
	operator := map[string]string{"DATABASE_URL": dbURL, "SWITCHYARD_MASTER_KEY": master, "OPENAI_API_KEY": "sk-operator-key-0123456789"}
	resolve := func(n string) (string, bool) { asked = append(asked, n); v, ok := operator[n]; return v, ok }
	for _, src := range []legacy.Sources{{LiteLLM: cfg}, {LiteLLM: cfg, Resolve: resolve}} {
		rep, err := legacy.Plan(ctx, r.store, src)
		if err != nil {
			t.Fatal(err)
		}
		if it := item(t, rep, legacy.SourceLiteLLM, "leak"); it.Status != legacy.CannotMap || !strings.Contains(it.Reason, "api_base refers to an environment variable") {
			t.Errorf("api_base reference: %+v", it)
		}
		it := item(t, rep, legacy.SourceLiteLLM, "master")
		if it.Status != legacy.MapsWithChanges || !strings.Contains(strings.Join(it.Changes, " "), "after the migration") {
			t.Errorf("own setting as a secret: %+v", it)
		}
		res, err := legacy.Apply(ctx, r.store, src, legacy.Options{})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(res)
		p, _ := r.db.GetProviderBySlug(ctx, "anthropic")
		for _, c := range p.Credentials {
			for _, s := range c.Secrets {
				if s.Reveal() == master {
					t.Fatal("the master key became a provider secret")
				}
			}
		}
		if p.Enabled {
			t.Error("a provider without its secret was enabled")
		}
		if strings.Contains(r.export(), "db-password-canary") || strings.Contains(string(raw), "db-password-canary") || strings.Contains(string(raw), master) {
			t.Fatal("a server secret leaked into the configuration or the report")
		}
		if _, err := legacy.Rollback(ctx, r.store, res.ID, false, legacy.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range asked {
		if n == "DATABASE_URL" || n == "SWITCHYARD_MASTER_KEY" {
			t.Errorf("asked the environment for %s", n)
		}
	}
}

// TestFromEnvironment maps the usual variables to providers.
func TestFromEnvironment(t *testing.T) {
	r := newRig(t)
	src := legacy.Sources{Env: env(map[string]string{
		"OPENAI_API_KEY": "sk-env-openai-0123456789", "ANTHROPIC_API_KEY": "sk-ant-env-0123456789",
		"AZURE_OPENAI_API_KEY": "azure-env-key-0123456789", "AZURE_OPENAI_ENDPOINT": "https://contoso-eu.openai.azure.com/", "OPENAI_API_VERSION": "2024-10-21",
		"AWS_ACCESS_KEY_ID": awsKeyID, "AWS_SECRET_ACCESS_KEY": awsSecret, "AWS_REGION": "eu-central-1",
		"GROQ_API_KEY": "gsk-env-0123456789", "GOOGLE_CLOUD_PROJECT": "proj-env-1",
	})}
	before := r.export()
	res, err := legacy.Apply(ctx, r.store, src, legacy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct{ status, target string }{
		"OPENAI_API_KEY":    {legacy.MapsCleanly, "openai"},
		"ANTHROPIC_API_KEY": {legacy.MapsCleanly, "anthropic"},
		"AZURE_OPENAI_API_KEY, AZURE_OPENAI_ENDPOINT, OPENAI_API_VERSION": {legacy.MapsWithChanges, "azure-openai-contoso-eu"},
		"AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION":            {legacy.MapsWithChanges, "bedrock-eu-central-1"},
		"GROQ_API_KEY":         {legacy.MapsCleanly, "groq"},
		"GOOGLE_CLOUD_PROJECT": {legacy.MapsWithChanges, "vertex-proj-env-1"},
	}
	for k, w := range want {
		if it := item(t, res.Report, legacy.SourceEnv, k); it.Status != w.status || it.Target != w.target {
			t.Errorf("%s: %+v", k, it)
		}
	}
	az, err := r.db.GetProviderBySlug(ctx, "azure-openai-contoso-eu")
	if err != nil || az.BaseURL != "https://contoso-eu.openai.azure.com" || az.Params["api_version"] != "2024-10-21" || !az.Enabled {
		t.Fatalf("azure provider: %+v, %v", az, err)
	}
	vx, _ := r.db.GetProviderBySlug(ctx, "vertex-proj-env-1")
	if vx == nil || vx.Enabled {
		t.Fatalf("vertex without its service account must stay disabled: %+v", vx)
	}
	if _, err := legacy.Rollback(ctx, r.store, res.ID, false, legacy.Options{}); err != nil {
		t.Fatal(err)
	}
	if after := r.export(); after != before {
		t.Fatal("rollback did not restore the configuration")
	}
}

// TestReferenceConfigs plans and applies the LiteLLM configs from the
// LiteLLM repository, as the server would (no resolver), then rolls back.
func TestReferenceConfigs(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.yaml")
	if len(files) < 3 {
		t.Fatalf("test data missing: %v", files)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			r := newRig(t)
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			before := r.export()
			res, err := legacy.Apply(ctx, r.store, legacy.Sources{LiteLLM: b}, legacy.Options{})
			if err != nil {
				t.Fatal(err)
			}
			checkReference(t, r, filepath.Base(file), res.Report)
			if strings.Contains(r.export(), "eYVX71") || strings.Contains(r.export(), "sk-1234") {
				t.Error("a value from environment_variables or general_settings was migrated")
			}
			if _, err := legacy.Rollback(ctx, r.store, res.ID, false, legacy.Options{}); err != nil {
				t.Fatal(err)
			}
			if r.export() != before {
				t.Fatal("rollback did not restore the configuration")
			}
		})
	}
}

func checkReference(t *testing.T, r *rig, file string, rep *legacy.Report) {
	switch file {
	case "azure_config.yaml":
		it := item(t, rep, legacy.SourceLiteLLM, "gpt-4-team1")
		if it.Status != legacy.MapsWithChanges || it.Target != "azure-openai-openai-gpt-4-test-v-1/chatgpt-v-2" {
			t.Errorf("azure entry: %+v", it)
		}
		p, err := r.db.GetProviderBySlug(ctx, "azure-openai-openai-gpt-4-test-v-1")
		if err != nil || p.Enabled || p.Params["api_version"] != "2023-05-15" {
			t.Errorf("azure provider without its key: %+v, %v", p, err)
		}
	case "load_balancer.yaml":
		p, _ := r.db.GetProviderBySlug(ctx, "openai")
		if !p.Enabled || len(p.Credentials) != 2 {
			t.Errorf("two deployments of one model are two keys of the OpenAI provider: %+v", p.Credentials)
		}
		if it := item(t, rep, legacy.SourceLiteLLM, "mistral-7b-instruct"); it.Status != legacy.CannotMap {
			t.Errorf("unknown LiteLLM provider: %+v", it)
		}
		if it := item(t, rep, legacy.SourceLiteLLM, "environment_variables"); it.Status != legacy.CannotMap {
			t.Errorf("environment_variables: %+v", it)
		}
	case "proxy_server_config.yaml":
		for k, status := range map[string]string{"*": legacy.CannotMap, "sagemaker-completion-model": legacy.CannotMap,
			"fake-openai-endpoint": legacy.MapsCleanly, "gpt-3.5-turbo → gpt-3.5-turbo-large": legacy.CannotMap, "general_settings": legacy.CannotMap} {
			if it := item(t, rep, legacy.SourceLiteLLM, k); it.Status != status {
				t.Errorf("%s: %+v, want %s", k, it, status)
			}
		}
	}
	if rep.Summary[legacy.CannotMap]+rep.Summary[legacy.MapsCleanly]+rep.Summary[legacy.MapsWithChanges] != len(rep.Items) {
		t.Errorf("summary %v for %d items", rep.Summary, len(rep.Items))
	}
}
