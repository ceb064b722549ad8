package metrics_test

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/metrics"
)

// Every metric the sample Grafana dashboard (docs/grafana) queries is one
// Switchyard exports: a renamed metric would otherwise leave empty panels.
func TestGrafanaDashboardQueriesRealMetrics(t *testing.T) {
	raw, err := os.ReadFile("../docs/grafana/switchyard-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	var source strings.Builder
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") {
			b, _ := os.ReadFile(f)
			source.Write(b)
		}
	}
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exported := scrape(t, metrics.Handler(metrics.Config{Usage: counters{}, Gateway: metrics.NewGateway(nil), DB: db}))
	name := regexp.MustCompile(`\b(switchyard|go_sql)_[a-z_]+`)
	seen := 0
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			for _, m := range name.FindAllString(tg.Expr, -1) {
				seen++
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_sum"), "_count")
				if !strings.Contains(source.String(), `"`+base+`"`) && !strings.Contains(exported, "# TYPE "+base+" ") {
					t.Errorf("panel %q queries %s, which Switchyard does not export", p.Title, m)
				}
			}
		}
	}
	if seen < 10 {
		t.Fatalf("the dashboard queries only %d metrics", seen)
	}
}
