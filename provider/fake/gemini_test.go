package fake

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

const geminiKey = "AIzaFakeGeminiKey0123456789"

func TestGeminiAuth(t *testing.T) {
	g := NewGemini(GeminiConfig{APIKeys: []string{geminiKey}})
	srv := serve(t, g)
	url := srv.URL + "/v1beta/models/gemini-2.5-flash:generateContent"
	body := `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`

	status, _, b := call(t, http.MethodPost, url, map[string]string{"x-goog-api-key": geminiKey}, body)
	if status != 200 {
		t.Fatalf("%d %s", status, b)
	}
	status, _, b = call(t, http.MethodPost, url+"?key="+geminiKey, nil, body)
	if status != 200 {
		t.Fatalf("?key=: %d %s", status, b)
	}
	// A wrong key is a 400 INVALID_ARGUMENT with reason API_KEY_INVALID.
	status, _, b = call(t, http.MethodPost, url, map[string]string{"x-goog-api-key": "AIzaWrong"}, body)
	if status != 400 || field(t, b, "error", "status") != "INVALID_ARGUMENT" || field(t, b, "error", "code") != float64(400) ||
		!strings.Contains(string(b), "API_KEY_INVALID") || !strings.HasPrefix(field(t, b, "error", "message").(string), "API key not valid") {
		t.Errorf("wrong key: %d %s", status, b)
	}
	status, _, b = call(t, http.MethodPost, url, nil, body)
	if status != 403 || field(t, b, "error", "status") != "PERMISSION_DENIED" {
		t.Errorf("no key: %d %s", status, b)
	}
	status, _, b = call(t, http.MethodPost, url, map[string]string{"Authorization": "Bearer nope"}, body)
	if status != 401 || field(t, b, "error", "status") != "UNAUTHENTICATED" {
		t.Errorf("bearer: %d %s", status, b)
	}
	status, _, b = call(t, http.MethodPost, srv.URL+"/v1beta/models/gemini-9:generateContent", map[string]string{"x-goog-api-key": geminiKey}, body)
	if status != 404 || field(t, b, "error", "status") != "NOT_FOUND" {
		t.Errorf("unknown model: %d %s", status, b)
	}
}

func TestGeminiGenerate(t *testing.T) {
	g := NewGemini(GeminiConfig{APIKeys: []string{geminiKey}})
	srv := serve(t, g)
	h := map[string]string{"x-goog-api-key": geminiKey}
	url := srv.URL + "/v1beta/models/gemini-2.5-flash:generateContent"

	status, _, b := call(t, http.MethodPost, url, h, `{"systemInstruction":{"parts":[{"text":"Be brief."}]},
		"contents":[{"role":"user","parts":[{"text":"What is the capital of France?"}]}]}`)
	if status != 200 {
		t.Fatalf("%d %s", status, b)
	}
	var res struct {
		Candidates []struct {
			Content struct {
				Role  string       `json:"role"`
				Parts []geminiPart `json:"parts"`
			} `json:"content"`
			FinishReason string `json:"finishReason"`
		} `json:"candidates"`
		UsageMetadata struct {
			PromptTokenCount, CandidatesTokenCount int
		} `json:"usageMetadata"`
		ModelVersion string `json:"modelVersion"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	c := res.Candidates[0]
	if *c.Content.Parts[0].Text != "You said: What is the capital of France?" || c.Content.Role != "model" || c.FinishReason != "STOP" ||
		res.UsageMetadata.CandidatesTokenCount != Tokens(*c.Content.Parts[0].Text) || res.ModelVersion != "gemini-2.5-flash" {
		t.Errorf("%s", b)
	}

	// Tools: a named tool is called with arguments from its schema.
	_, _, b = call(t, http.MethodPost, url, h, `{"contents":[{"role":"user","parts":[{"text":"use get_weather"}]}],
		"tools":[{"functionDeclarations":[{"name":"get_weather","parameters":{"type":"OBJECT","properties":{"city":{"type":"STRING"}},"required":["city"]}}]}]}`)
	if !strings.Contains(string(b), `"functionCall":{"args":{"city":"fake"},"name":"get_weather"}`) {
		t.Errorf("tool call %s", b)
	}
	// After the function response, the reply reports it.
	_, _, b = call(t, http.MethodPost, url, h, `{"contents":[{"role":"user","parts":[{"text":"use get_weather"}]},
		{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}}]},
		{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"output":"sunny"}}}]}],
		"tools":[{"functionDeclarations":[{"name":"get_weather"}]}]}`)
	if !strings.Contains(string(b), "The tool returned: sunny") {
		t.Errorf("tool result %s", b)
	}
	// Gemini 3 wants the call's thought signature back.
	req := `{"contents":[{"role":"user","parts":[{"text":"x"}]},{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}SIG}]},
		{"role":"user","parts":[{"functionResponse":{"name":"f","response":{"output":"ok"}}}]}]}`
	status, _, b = call(t, http.MethodPost, srv.URL+"/v1beta/models/gemini-3-flash-preview:generateContent", h, strings.Replace(req, "SIG", "", 1))
	if status != 400 || !strings.Contains(string(b), "thought_signature") {
		t.Errorf("unsigned: %d %s", status, b)
	}
	status, _, b = call(t, http.MethodPost, srv.URL+"/v1beta/models/gemini-3-flash-preview:generateContent", h,
		strings.Replace(req, "SIG", `,"thoughtSignature":"`+GeminiSentinelSignature+`"`, 1))
	if status != 200 {
		t.Errorf("sentinel: %d %s", status, b)
	}

	// JSON output follows the schema; max tokens cuts.
	_, _, b = call(t, http.MethodPost, url, h, `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],
		"generationConfig":{"responseMimeType":"application/json","responseSchema":{"type":"OBJECT","properties":{"n":{"type":"INTEGER"}},"required":["n"]}}}`)
	if !strings.Contains(string(b), `"text":"{\"n\":1}"`) {
		t.Errorf("json %s", b)
	}
	_, _, b = call(t, http.MethodPost, url, h, `{"contents":[{"role":"user","parts":[{"text":"a b c d e f g"}]}],"generationConfig":{"maxOutputTokens":2}}`)
	if !strings.Contains(string(b), `"finishReason":"MAX_TOKENS"`) {
		t.Errorf("max tokens %s", b)
	}

	for name, body := range map[string]string{
		"additionalProperties": `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"name":"f","parameters":{"type":"object","additionalProperties":false}}]}]}`,
		"unknown field":        `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"messages":[]}`,
		"role":                 `{"contents":[{"role":"assistant","parts":[{"text":"x"}]}]}`,
		"no contents":          `{}`,
		"empty part":           `{"contents":[{"role":"user","parts":[{}]}]}`,
		"bad base64":           `{"contents":[{"role":"user","parts":[{"inlineData":{"mimeType":"image/png","data":"@@"}}]}]}`,
		"response not object":  `{"contents":[{"role":"user","parts":[{"functionResponse":{"name":"f","response":"x"}}]}]}`,
	} {
		if status, _, b := call(t, http.MethodPost, url, h, body); status != 400 || field(t, b, "error", "status") != "INVALID_ARGUMENT" {
			t.Errorf("%s: %d %s", name, status, b)
		}
	}
}

func TestGeminiStream(t *testing.T) {
	g := NewGemini(GeminiConfig{APIKeys: []string{geminiKey}})
	srv := serve(t, g)
	status, hdr, b := call(t, http.MethodPost, srv.URL+"/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
		map[string]string{"x-goog-api-key": geminiKey}, `{"contents":[{"role":"user","parts":[{"text":"tell me about streams"}]}]}`)
	if status != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("%d %s", status, b)
	}
	var text strings.Builder
	var last map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		last = nil
		if err := json.Unmarshal([]byte(data), &last); err != nil {
			t.Fatal(err)
		}
		cand := last["candidates"].([]any)[0].(map[string]any)
		text.WriteString(cand["content"].(map[string]any)["parts"].([]any)[0].(map[string]any)["text"].(string))
	}
	cand := last["candidates"].([]any)[0].(map[string]any)
	if text.String() != "You said: tell me about streams" || cand["finishReason"] != "STOP" ||
		last["usageMetadata"].(map[string]any)["candidatesTokenCount"] != float64(Tokens(text.String())) {
		t.Errorf("%q %v", text.String(), last)
	}
}

func TestGeminiEmbedAndModels(t *testing.T) {
	g := NewGemini(GeminiConfig{APIKeys: []string{geminiKey}, Models: []string{"a", "b", "c", "gemini-embedding-001"}})
	srv := serve(t, g)
	h := map[string]string{"x-goog-api-key": geminiKey}
	_, _, b := call(t, http.MethodPost, srv.URL+"/v1beta/models/gemini-embedding-001:batchEmbedContents", h,
		`{"requests":[{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"x"}]},"outputDimensionality":8},
		{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"y"}]}}]}`)
	embs := field(t, b, "embeddings").([]any)
	if len(embs) != 2 || len(embs[0].(map[string]any)["values"].([]any)) != 8 || len(embs[1].(map[string]any)["values"].([]any)) != 16 {
		t.Errorf("%s", b)
	}
	_, _, b = call(t, http.MethodPost, srv.URL+"/v1beta/models/gemini-embedding-001:embedContent", h, `{"content":{"parts":[{"text":"x"}]}}`)
	if len(field(t, b, "embedding", "values").([]any)) != 16 {
		t.Errorf("%s", b)
	}
	if status, _, b := call(t, http.MethodPost, srv.URL+"/v1beta/models/a:embedContent", h, `{"content":{"parts":[{"text":"x"}]}}`); status != 404 {
		t.Errorf("chat model embedding: %d %s", status, b)
	}

	var names []string
	token := ""
	for range 5 {
		u := srv.URL + "/v1beta/models?pageSize=3"
		if token != "" {
			u += "&pageToken=" + token
		}
		status, _, b := call(t, http.MethodGet, u, h, "")
		if status != 200 {
			t.Fatalf("%d %s", status, b)
		}
		var page struct {
			Models []struct {
				Name                       string
				SupportedGenerationMethods []string
			}
			NextPageToken string
		}
		_ = json.Unmarshal(b, &page)
		for _, m := range page.Models {
			names = append(names, m.Name)
		}
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	if strings.Join(names, ",") != "models/a,models/b,models/c,models/gemini-embedding-001" {
		t.Errorf("%v", names)
	}
}

func TestVertex(t *testing.T) {
	g := NewGemini(GeminiConfig{Vertex: true, Tokens: []string{"ya29.token"}, Project: "proj-1", Location: "europe-west4"})
	srv := serve(t, g)
	base := srv.URL + "/v1/projects/proj-1/locations/europe-west4/publishers/google/models/"
	h := map[string]string{"Authorization": "Bearer ya29.token"}
	body := `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`
	if status, _, b := call(t, http.MethodPost, base+"gemini-2.5-flash:generateContent", h, body); status != 200 {
		t.Fatalf("%d %s", status, b)
	}
	if status, _, b := call(t, http.MethodPost, base+"gemini-2.5-flash:countTokens", h, body); status != 200 || field(t, b, "totalTokens").(float64) == 0 {
		t.Errorf("count: %d %s", status, b)
	}
	status, _, b := call(t, http.MethodPost, base+"gemini-2.5-flash:generateContent", map[string]string{"x-goog-api-key": geminiKey}, body)
	if status != 401 || field(t, b, "error", "status") != "UNAUTHENTICATED" {
		t.Errorf("key on Vertex: %d %s", status, b)
	}
	status, _, b = call(t, http.MethodPost, srv.URL+"/v1/projects/other/locations/europe-west4/publishers/google/models/gemini-2.5-flash:generateContent", h, body)
	if status != 403 || field(t, b, "error", "status") != "PERMISSION_DENIED" {
		t.Errorf("other project: %d %s", status, b)
	}
	_, _, b = call(t, http.MethodPost, base+"gemini-embedding-001:predict", h, `{"instances":[{"content":"a"},{"content":"b"}],"parameters":{"outputDimensionality":4}}`)
	preds := field(t, b, "predictions").([]any)
	if len(preds) != 2 || len(preds[0].(map[string]any)["embeddings"].(map[string]any)["values"].([]any)) != 4 {
		t.Errorf("predict %s", b)
	}

	// A 429 carries Retry-After and a RetryInfo detail.
	g.QueueFault(RateLimit(3 * time.Second))
	status, hdr, b := call(t, http.MethodPost, base+"gemini-2.5-flash:generateContent", h, body)
	if status != 429 || hdr.Get("Retry-After") != "3" || field(t, b, "error", "status") != "RESOURCE_EXHAUSTED" || !strings.Contains(string(b), `"retryDelay":"3s"`) {
		t.Errorf("429: %d %v %s", status, hdr, b)
	}
}
