package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// switchyard legacy plan, apply, status and rollback on a LiteLLM config
// whose key comes from the operator's environment, while the installation's
// own settings in that environment are never read as a provider secret.
func TestLegacyCommands(t *testing.T) {
	const compatKey = "sk-legacy-cli-compat-0123456789"
	dir, work := t.TempDir(), t.TempDir()
	vars := map[string]string{"SWITCHYARD_DATA_DIR": dir, "COMPAT_KEY": compatKey, "OPENAI_API_KEY": "sk-legacy-cli-openai-0123456789",
		"SWITCHYARD_ADMIN_TOKEN": "syt_legacy-cli-admin-token-0123456789"}
	cli := func(args ...string) (string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, env(vars), &out, &errOut)
		return out.String() + errOut.String(), err
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := cli(args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return out
	}
	cfg := filepath.Join(work, "config.yaml")
	if err := os.WriteFile(cfg, []byte(`model_list:
  - model_name: local
    litellm_params:
      model: openai/qwen2.5
      api_base: https://llm.example.com/v1
      api_key: os.environ/COMPAT_KEY
  - model_name: admin
    litellm_params:
      model: anthropic/claude-sonnet-4-5
      api_key: os.environ/SWITCHYARD_ADMIN_TOKEN
`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := cli("legacy", "plan"); err == nil {
		t.Fatal("plan without a source was accepted")
	}
	plan := must("legacy", "plan", "--litellm-config", cfg, "--from-env")
	for _, want := range []string{"maps cleanly", "openai-compatible-llm-example-com/qwen2.5", "OPENAI_API_KEY", "never read as a provider secret", "nothing written"} {
		if !strings.Contains(plan, want) {
			t.Fatalf("plan lacks %q:\n%s", want, plan)
		}
	}
	if strings.Contains(plan, compatKey) || strings.Contains(plan, "0123456789") {
		t.Fatalf("the plan shows a secret:\n%s", plan)
	}
	if st := must("legacy", "status"); strings.Count(st, "\n") != 1 {
		t.Fatalf("a plan recorded a migration:\n%s", st)
	}
	applied := must("legacy", "apply", "--litellm-config", cfg, "--from-env")
	if !strings.Contains(applied, "applied as migration") {
		t.Fatalf("apply:\n%s", applied)
	}
	exported := must("export")
	if !strings.Contains(exported, `"slug": "openai-compatible-llm-example-com"`) {
		t.Fatalf("export after apply:\n%s", exported)
	}
	st := must("legacy", "status")
	if !strings.Contains(st, "env,litellm") || !strings.Contains(st, "applied") {
		t.Fatalf("status:\n%s", st)
	}
	rb := must("legacy", "rollback")
	if !strings.Contains(rb, "rolled back") || !strings.Contains(rb, "created provider openai-compatible-llm-example-com") {
		t.Fatalf("rollback:\n%s", rb)
	}
	if out, err := cli("legacy", "rollback"); err == nil || !strings.Contains(out+err.Error(), "no migration to roll back") {
		t.Fatalf("second rollback: %v %s", err, out)
	}
	if st := must("legacy", "status"); !strings.Contains(st, "rolled back") {
		t.Fatalf("status after rollback:\n%s", st)
	}
}
