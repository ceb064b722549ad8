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
	// allowed lists, per package, the project packages it may import.
	allowed := map[string][]string{
		mod:                       {},
		mod + "/config":           {},
		mod + "/secret":           {},
		mod + "/catalog":          {mod},
		mod + "/sqlstore":         {mod, mod + "/secret"},
		mod + "/api":              {},
		mod + "/auth":             {mod},
		mod + "/httpapi/apigen":   {},
		mod + "/httpapi":          {mod, mod + "/api", mod + "/apidocs", mod + "/httpapi/apigen", mod + "/auth", mod + "/catalog", mod + "/control"},
		mod + "/control":          {mod, mod + "/auth", mod + "/catalog"},
		mod + "/apidocs":          {},
		mod + "/provider":         {mod, mod + "/netguard"},
		mod + "/provider/fake":    {},
		mod + "/provider/bedrock": {mod, mod + "/provider"},
		mod + "/netguard":         {mod},
		mod + "/cmd/switchyard":   {"*"},
	}
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
