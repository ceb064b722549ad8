package legacy_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/legacy"
)

// FuzzLiteLLMConfig: any input either parses or fails with EINVALID;
// never a panic, and a parsed config names every entry by its path.
func FuzzLiteLLMConfig(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(fakesConfig))
	f.Add([]byte("model_list: [1, {model_name: x}, {model_name: y, litellm_params: {model: azure/}}]\nrouter_settings: {fallbacks: [{a: [b, 1]}], model_group_alias: {q: {model: x}}}"))
	f.Add([]byte("model_list:\n  - &a {model_name: *a}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := legacy.ParseLiteLLM(b)
		if err != nil {
			if switchyard.ErrorCode(err) != switchyard.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		for _, m := range cfg.Models {
			if m.Path == "" || (m.Problem == "" && (m.Name == "" || m.Model == "")) {
				t.Fatalf("entry %+v", m)
			}
		}
	})
}
