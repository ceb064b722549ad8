package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/config"
)

// codesIn parses the non-test Go files of dir and returns the string
// literals that match: a constant whose name passes constName, the first
// argument of a call to one of calls (or the argument at index n, written
// "name:n"), or the value of a composite literal's field named field.
type codeSource struct {
	dir       string
	constName func(string) bool
	calls     map[string]int
	field     string
}

func (cs codeSource) codes(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join("..", "..", cs.dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s: %v", cs.dir, err)
	}
	var out []string
	lit := func(e ast.Expr) {
		if b, ok := e.(*ast.BasicLit); ok && b.Kind == token.STRING {
			if s, err := strconv.Unquote(b.Value); err == nil && s != "" {
				out = append(out, s)
			}
		}
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				if cs.constName == nil {
					break
				}
				for i, id := range n.Names {
					if cs.constName(id.Name) && i < len(n.Values) {
						lit(n.Values[i])
					}
				}
			case *ast.CallExpr:
				if id, ok := n.Fun.(*ast.Ident); ok {
					if i, ok := cs.calls[id.Name]; ok && i < len(n.Args) {
						lit(n.Args[i])
					}
				}
			case *ast.KeyValueExpr:
				if id, ok := n.Key.(*ast.Ident); ok && cs.field != "" && id.Name == cs.field {
					lit(n.Value)
				}
			}
			return true
		})
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// documentedCodes returns the codes a section of docs/troubleshooting.md
// documents: the `code`s in the first cell of its tables' rows.
func documentedCodes(doc, heading string) []string {
	i := strings.Index(doc, "\n## "+heading)
	if i < 0 {
		return nil
	}
	sec := doc[i+1:]
	if j := strings.Index(sec[3:], "\n## "); j >= 0 {
		sec = sec[:j+3]
	}
	var out []string
	for _, m := range regexp.MustCompile("(?m)^\\|([^|\n]*)\\|").FindAllStringSubmatch(sec, -1) {
		for _, c := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(m[1], -1) {
			out = append(out, c[1])
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestTroubleshootingCoversEveryCode fails when a code the program can
// answer with is missing from docs/troubleshooting.md, or when the page
// documents a code that no longer exists. The codes are read from the
// source: the connectivity and model tests' fail calls (probe), the domain
// error codes (error.go) and the HTTP API's own (httpapi/problem.go), and
// the gateway's error codes with the upstream codes it passes on
// (provider/errors.go).
func TestTroubleshootingCoversEveryCode(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "troubleshooting.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	isE := func(n string) bool { return regexp.MustCompile(`^E[A-Z]+$`).MatchString(n) }
	sections := []struct {
		heading string
		sources []codeSource
	}{
		{"Connectivity and model tests", []codeSource{{dir: "probe", calls: map[string]int{"fail": 0}}}},
		{"Admin API errors", []codeSource{
			{dir: ".", constName: isE},
			{dir: "httpapi", constName: func(n string) bool { return strings.HasPrefix(n, "code") }},
		}},
		{"Gateway errors", []codeSource{
			{dir: "gateway", calls: map[string]int{"writeError": 3}, field: "code"},
			{dir: "provider", constName: func(n string) bool { return regexp.MustCompile(`^Code[A-Z]`).MatchString(n) }},
		}},
	}
	for _, s := range sections {
		var want []string
		for _, src := range s.sources {
			want = append(want, src.codes(t)...)
		}
		slices.Sort(want)
		want = slices.Compact(want)
		if len(want) < 5 {
			t.Fatalf("%s: found only %q in the source; has the code moved?", s.heading, want)
		}
		got := documentedCodes(doc, s.heading)
		for _, c := range want {
			if !slices.Contains(got, c) {
				t.Errorf("docs/troubleshooting.md, %q: code %q is not documented (add a table row: code, meaning, what to do)", s.heading, c)
			}
		}
		for _, c := range got {
			if !slices.Contains(want, c) {
				t.Errorf("docs/troubleshooting.md, %q: documents %q, which the code no longer has", s.heading, c)
			}
		}
	}
}

// TestReadmeSettingsAreReal checks the README's short table of settings
// against the settings themselves: each variable exists, with that flag and
// that default.
func TestReadmeSettingsAreReal(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	byEnv := map[string]config.Setting{}
	for _, s := range config.Settings() {
		byEnv[s.Env] = s
	}
	rows := regexp.MustCompile("(?m)^\\| `(SWITCHYARD_[A-Z_]+)` \\| ([^|]*) \\| ([^|]*) \\|").FindAllStringSubmatch(string(raw), -1)
	if len(rows) < 5 {
		t.Fatalf("README.md's settings table has %d rows", len(rows))
	}
	for _, r := range rows {
		s, ok := byEnv[r[1]]
		if !ok {
			t.Errorf("README.md lists %s, which is not a setting", r[1])
			continue
		}
		flag, def := "(none)", "(none)"
		if s.Flag != "" {
			flag = "`-" + s.Flag + "`"
		}
		if s.Default != "" {
			def = "`" + s.Default + "`"
		}
		if r[2] != flag || r[3] != def {
			t.Errorf("README.md: %s has flag %s and default %s; the setting has %s and %s", r[1], r[2], r[3], flag, def)
		}
	}
}
