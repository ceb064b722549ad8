package fake

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestOllamaChat(t *testing.T) {
	o := NewOllama(OllamaConfig{})
	srv := serve(t, o)
	url := srv.URL + "/api/chat"

	// Streaming is the default: NDJSON, one message piece a line, then done.
	status, h, b := call(t, http.MethodPost, url, nil, `{"model":"llama3.2","messages":[{"role":"user","content":"why is the sky blue"}]}`)
	if status != 200 || h.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("%d %q %s", status, h.Get("Content-Type"), b)
	}
	var text strings.Builder
	var last map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	lines := 0
	for sc.Scan() {
		lines++
		last = nil
		if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
			t.Fatalf("line %d: %v", lines, err)
		}
		text.WriteString(last["message"].(map[string]any)["content"].(string))
	}
	if text.String() != "You said: why is the sky blue" || last["done"] != true || last["done_reason"] != "stop" || last["model"] != "llama3.2:latest" {
		t.Errorf("text %q, last %v", text.String(), last)
	}
	if last["eval_count"] != float64(Tokens(text.String())) || last["prompt_eval_count"].(float64) == 0 {
		t.Errorf("counts %v", last)
	}

	// stream:false gives one object; tools named in the prompt are called.
	status, _, b = call(t, http.MethodPost, url, nil, `{"model":"qwen2.5:0.5b","stream":false,
		"messages":[{"role":"user","content":"use get_time please"}],
		"tools":[{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{"tz":{"type":"string","enum":["UTC","CET"]}},"required":["tz"]}}}]}`)
	if status != 200 {
		t.Fatalf("%d %s", status, b)
	}
	calls := field(t, b, "message", "tool_calls").([]any)
	fn := calls[0].(map[string]any)["function"].(map[string]any)
	if fn["name"] != "get_time" || fn["arguments"].(map[string]any)["tz"] != "UTC" || field(t, b, "done") != true {
		t.Errorf("tool call %s", b)
	}

	// num_predict truncates with done_reason "length".
	_, _, b = call(t, http.MethodPost, url, nil, `{"model":"llama3.2","stream":false,"options":{"num_predict":2},"messages":[{"role":"user","content":"a b c d e f g h"}]}`)
	if field(t, b, "done_reason") != "length" {
		t.Errorf("truncation %s", b)
	}

	cases := []struct {
		name, body string
		status     int
	}{
		{"unknown model", `{"model":"mistral","messages":[]}`, 404},
		{"no model", `{"messages":[]}`, 400},
		{"malformed", `{"model":`, 400},
	}
	for _, c := range cases {
		status, _, b := call(t, http.MethodPost, url, nil, c.body)
		if status != c.status || field(t, b, "error") == "" {
			t.Errorf("%s: %d %s", c.name, status, b)
		}
	}
	_, _, b = call(t, http.MethodPost, url, nil, `{"model":"mistral","messages":[]}`)
	if field(t, b, "error") != `model "mistral" not found, try pulling it first` {
		t.Errorf("not found message %s", b)
	}
}

func TestOllamaTagsEmbedAuth(t *testing.T) {
	o := NewOllama(OllamaConfig{Dimensions: 4})
	srv := serve(t, o)
	status, _, b := call(t, http.MethodGet, srv.URL+"/api/tags", nil, "")
	models := field(t, b, "models").([]any)
	if status != 200 || len(models) != len(DefaultOllamaModels) || models[0].(map[string]any)["name"] != "llama3.2:latest" {
		t.Errorf("tags %d %s", status, b)
	}
	status, _, b = call(t, http.MethodPost, srv.URL+"/api/embed", nil, `{"model":"nomic-embed-text","input":["a","b"]}`)
	embs := field(t, b, "embeddings").([]any)
	if status != 200 || len(embs) != 2 || len(embs[0].([]any)) != 4 {
		t.Errorf("embed %d %s", status, b)
	}
	if status, _, b = call(t, http.MethodGet, srv.URL+"/", nil, ""); status != 200 || string(b) != "Ollama is running" {
		t.Errorf("root %d %s", status, b)
	}

	// Optional bearer auth, for a proxy in front of Ollama.
	guarded := serve(t, NewOllama(OllamaConfig{APIKeys: []string{"proxy-key"}}))
	for _, c := range []struct {
		headers map[string]string
		status  int
	}{
		{nil, 401},
		{map[string]string{"Authorization": "Bearer wrong"}, 401},
		{map[string]string{"x-api-key": "proxy-key"}, 401},
		{map[string]string{"Authorization": "Bearer proxy-key"}, 200},
	} {
		status, _, b := call(t, http.MethodGet, guarded.URL+"/api/tags", c.headers, "")
		if status != c.status {
			t.Errorf("%v: %d %s", c.headers, status, b)
		}
	}
}
