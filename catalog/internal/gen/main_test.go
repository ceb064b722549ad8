package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const refPath = "../../../../shared/reference/models-dev-providers.json"

// TestReproducible checks that the checked-in templates are exactly what the
// generator makes from the reference data.
func TestReproducible(t *testing.T) {
	if _, err := os.Stat(refPath); err != nil {
		t.Skipf("reference data not available: %v", err)
	}
	src := "../../templates"
	dir := t.TempDir()
	files, err := filepath.Glob(filepath.Join(src, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if err := run(refPath, dir); err != nil {
			t.Fatalf("run: %v", err)
		}
		for _, f := range files {
			want, _ := os.ReadFile(f)
			got, _ := os.ReadFile(filepath.Join(dir, filepath.Base(f)))
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the generator's output; run go generate ./catalog/...", filepath.Base(f))
			}
		}
	}
}

func TestWriteModelClampsAndSkips(t *testing.T) {
	tests := []struct {
		name    string
		row     map[string]any
		wantErr bool
		want    string
	}{
		{"clamps output", map[string]any{"name": "M", "limit": map[string]any{"context": 100.0, "output": 200.0},
			"modalities": map[string]any{"input": []any{"text", "image", "file"}, "output": []any{"text"}}}, false, "max_output_tokens: 100\n"},
		{"drops unknown modalities", map[string]any{"name": "M", "limit": map[string]any{"context": 100.0, "output": 10.0},
			"modalities": map[string]any{"input": []any{"text", "image", "file"}, "output": []any{"text"}}}, false, "input_modalities: [text, image]\n"},
		{"no context", map[string]any{"name": "M", "limit": map[string]any{"output": 10.0},
			"modalities": map[string]any{"input": []any{"text"}, "output": []any{"text"}}}, true, ""},
		{"no name", map[string]any{"limit": map[string]any{"context": 10.0}}, true, ""},
		{"negative price", map[string]any{"name": "M", "limit": map[string]any{"context": 100.0, "output": 10.0},
			"modalities": map[string]any{"input": []any{"text"}, "output": []any{"text"}}, "cost": map[string]any{"input": -1.0}}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sb stringsBuilder
			err := writeModel(&sb.b, "m", tt.row, true)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if !bytes.Contains([]byte(sb.b.String()), []byte(tt.want)) {
				t.Errorf("output lacks %q:\n%s", tt.want, sb.b.String())
			}
		})
	}
}

type stringsBuilder struct{ b strings.Builder }
