package switchyard_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDependencyRules keeps the layers apart: the domain imports only the
// standard library, storage and crypto know nothing of transports, and
// transports reach storage only through the domain's interfaces. Only
// cmd/switchyard wires concrete packages together.
func TestDependencyRules(t *testing.T) {
	const mod = "github.com/switchyard/switchyard"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	// allowed lists, per package, the project packages it may import; rule
	// adds one (a call per line keeps concurrent additions from conflicting).
	allowed := map[string][]string{}
	rule := func(pkg string, deps ...string) { allowed[pkg] = deps }
	rule(mod)
	rule(mod + "/config")
	rule(mod+"/config/internal/refgen", mod+"/config")
	rule(mod + "/deploy")
	rule(mod + "/secret")
	rule(mod+"/catalog", mod)
	rule(mod+"/sqlstore", mod, mod+"/secret")
	rule(mod + "/api")
	rule(mod+"/auth", mod)
	rule(mod + "/httpapi/apigen")
	rule(mod+"/httpapi", mod, mod+"/api", mod+"/apidocs", mod+"/httpapi/apigen", mod+"/auth", mod+"/catalog", mod+"/control", mod+"/events", mod+"/legacy", mod+"/transfer")
	rule(mod+"/control", mod, mod+"/auth", mod+"/catalog", mod+"/probe", mod+"/provider", mod+"/registry", mod+"/legacy", mod+"/transfer")
	rule(mod+"/transfer", mod)
	rule(mod+"/legacy", mod, mod+"/catalog", mod+"/transfer")
	rule(mod + "/apidocs")
	rule(mod+"/provider", mod, mod+"/netguard")
	rule(mod+"/netguard", mod)
	rule(mod+"/probe", mod, mod+"/netguard", mod+"/provider")
	rule(mod + "/provider/fake")
	rule(mod+"/cmd/switchyard", "*")
	rule(mod+"/provider/anthropic", mod, mod+"/provider")
	rule(mod+"/provider/tokenauth", mod, mod+"/provider", mod+"/netguard")
	rule(mod+"/provider/openai", mod, mod+"/provider")
	rule(mod+"/provider/azure", mod, mod+"/provider", mod+"/provider/openai")
	rule(mod+"/provider/ollama", mod, mod+"/provider")
	rule(mod+"/provider/bedrock", mod, mod+"/provider")
	rule(mod+"/registry", mod, mod+"/provider")
	rule(mod+"/gateway", mod, mod+"/provider", mod+"/registry")
	rule(mod+"/metrics", mod, mod+"/registry")
	rule(mod+"/provider/gemini", mod, mod+"/provider")
	rule(mod+"/analytics", mod)
	rule(mod + "/web")
	rule(mod + "/events")
	rule(mod+"/alert", mod, mod+"/netguard")
	rule(mod+"/health", mod, mod+"/events", mod+"/provider", mod+"/registry")
	rule(mod+"/provider/protocols", mod, mod+"/provider", mod+"/provider/anthropic", mod+"/provider/azure",
		mod+"/provider/bedrock", mod+"/provider/gemini", mod+"/provider/ollama", mod+"/provider/openai", mod+"/provider/tokenauth")
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		rules, ok := allowed[pkg]
		if !ok {
			if strings.Contains(pkg, "/internal/") || strings.HasSuffix(pkg, "/storetest") {
				continue
			}
			t.Errorf("package %s has no dependency rule; add one here", pkg)
			continue
		}
		seen++
		for _, imp := range imports {
			if pkg == mod && strings.Contains(strings.Split(imp, "/")[0], ".") {
				t.Errorf("the domain package imports %s; it must use the standard library only", imp)
			}
			if !strings.HasPrefix(imp, mod) || (len(rules) == 1 && rules[0] == "*") {
				continue
			}
			if !slices.Contains(rules, imp) {
				t.Errorf("%s imports %s, which its layer may not use", pkg, imp)
			}
		}
	}
	if seen < len(allowed) {
		t.Errorf("only %d of %d packages with rules were listed", seen, len(allowed))
	}
}
