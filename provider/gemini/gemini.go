// Package gemini speaks Google's GenerateContent API in its two hostings:
// the Gemini API (protocol "gemini", generativelanguage.googleapis.com)
// and Gemini on Vertex AI (protocol "vertex",
// {location}-aiplatform.googleapis.com). Both take the same request and
// answer bodies; they differ in auth, paths, the model list and
// embeddings.
//
// Gemini API: requests go to {base}/models/{model}:{method} with the API
// key in the x-goog-api-key header. A credential asking for the key in the
// query (query_param) is refused: keys in URLs end up in logs.
// ListModels follows GET /models's pages; Ping asks for one model;
// embeddings use :batchEmbedContents.
//
// Vertex: requests go to {base}/publishers/google/models/{model}:{method},
// the base being https://{location}-aiplatform.googleapis.com/v1/projects/
// {project}/locations/{location} (placeholders filled from the provider's
// "project" and "location" parameters), with the bearer token of the
// credential (gcp_service_account in practice). Vertex has no list of the
// Google models a project may call (the Model Garden list is a v1beta1
// API outside the project's path), so ListModels returns
// provider.ErrUnsupported and Ping counts the tokens of "ping" with the
// model of the "ping_model" parameter (DefaultVertexPingModel), the
// cheapest authenticated call that also checks the project and location.
// Embeddings use :predict (text-embedding and gemini-embedding models).
//
// Translation: system messages become systemInstruction; assistant turns
// are role "model", tool results user turns of functionResponse parts;
// consecutive turns of one role are merged. Gemini's function calls have no
// ids: an answer's calls get call_0, call_1, … and a tool result is mapped
// back to the name of the call with its id (the latest such call). Tool
// and response schemas are converted to Gemini's OpenAPI subset (see
// convertSchema). Replayed calls carry SentinelSignature.
//
// Usage: InputTokens is promptTokenCount (cached tokens included),
// CachedInputTokens cachedContentTokenCount, OutputTokens the candidates'
// and the thoughts' tokens, ReasoningTokens the thoughts'.
package gemini

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/provider"
)

const (
	// DefaultBaseURL is the Gemini API.
	DefaultBaseURL = "https://generativelanguage.googleapis.com/v1beta"
	// VertexBaseURL is the Vertex AI base URL; {project} and {location}
	// come from the provider's parameters.
	VertexBaseURL = "https://{location}-aiplatform.googleapis.com/v1/projects/{project}/locations/{location}"
	// DefaultVertexLocation is used when the provider sets no location.
	DefaultVertexLocation = "us-central1"
	// DefaultVertexPingModel is the model Ping counts tokens with on Vertex
	// unless the "ping_model" parameter names another.
	DefaultVertexPingModel = "gemini-2.5-flash"
)

const (
	// maxModelPages bounds how many pages of the model list are followed.
	maxModelPages = 20
	// modelPageSize is the page size asked of the model list (the API's
	// maximum).
	modelPageSize = 1000
	// embedBatch is how many inputs one embedding request carries (the
	// Gemini API's batch limit; Vertex's text-embedding models take 250).
	embedBatch = 100
)

type adapter struct {
	c         *provider.Client
	vertex    bool
	pingModel string
	now       func() time.Time
}

var _ provider.Adapter = (*adapter)(nil)

// New builds the adapter of a "gemini" or "vertex" provider.
func New(cfg provider.Config) (provider.Adapter, error) {
	if cfg.Provider == nil {
		return nil, errors.New("gemini: no provider given")
	}
	p := *cfg.Provider
	vertex := p.Protocol == switchyard.ProtocolVertex
	if vertex {
		base := p.BaseURL
		if base == "" {
			base = VertexBaseURL
		}
		params := map[string]string{"project": cfg.Param("project", ""), "location": cfg.Param("location", DefaultVertexLocation)}
		if params["project"] == "" {
			delete(params, "project")
		}
		base = switchyard.Substitute(base, params)
		if names := switchyard.Placeholders(base); len(names) > 0 {
			return nil, errors.New("vertex: the base URL needs the provider parameter " + names[0])
		}
		p.BaseURL = base
	} else {
		if p.BaseURL == "" {
			p.BaseURL = DefaultBaseURL
		}
		if cfg.Credential.Method == switchyard.AuthAPIKey && cfg.Credential.Config["query_param"] != "" {
			return nil, errors.New("gemini: the API key is sent in the x-goog-api-key header; a key in the query (query_param) would end up in logs")
		}
	}
	cfg.Provider = &p
	if cfg.HTTP != nil {
		cfg.HTTP = retryInfo{cfg.HTTP}
	}
	c, err := cfg.Client(provider.GooglePlacement, parseError)
	if err != nil {
		return nil, err
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &adapter{c: c, vertex: vertex, pingModel: cfg.Param("ping_model", DefaultVertexPingModel), now: now}, nil
}

// googleError is the error of Google APIs:
// {"error":{"code":400,"message","status":"INVALID_ARGUMENT","details":[…]}}.
type googleError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  string `json:"status"`
	Details []struct {
		Type       string `json:"@type"`
		Reason     string `json:"reason"`
		RetryDelay string `json:"retryDelay"`
	} `json:"details"`
}

// retryInfo passes the delay of a 429's RetryInfo detail on as a
// Retry-After-Ms header when the answer has no Retry-After: Google states
// how long to wait in the body ("retryDelay": "2.5s"), which
// provider.ErrorParser cannot return.
type retryInfo struct{ provider.Doer }

func (d retryInfo) Do(req *http.Request) (*http.Response, error) {
	res, err := d.Doer.Do(req)
	if err != nil || res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "" {
		return res, err
	}
	body, rerr := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		return res, nil
	}
	var e struct {
		Error googleError `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	for _, d := range e.Error.Details {
		if !strings.HasSuffix(d.Type, "google.rpc.RetryInfo") {
			continue
		}
		if secs, err := strconv.ParseFloat(strings.TrimSuffix(d.RetryDelay, "s"), 64); err == nil && secs > 0 {
			res.Header.Set("Retry-After-Ms", strconv.FormatInt(int64(secs*1000), 10))
		}
	}
	return res, nil
}

// parseError reads Google's error shape; the type is the status
// ("INVALID_ARGUMENT", "RESOURCE_EXHAUSTED", …). Vertex sometimes answers
// a list holding one such object.
func parseError(_ int, body []byte) (typ, message string) {
	var e struct {
		Error googleError `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		var list []struct {
			Error googleError `json:"error"`
		}
		if json.Unmarshal(body, &list) != nil || len(list) == 0 {
			return "", ""
		}
		e = list[0]
	}
	return e.Error.Status, e.Error.Message
}

// codeFor refines the code of an error by Google's status, which says more
// than the HTTP status: a bad API key is a 400 INVALID_ARGUMENT ("API key
// not valid"), and errors in a stream have no HTTP status at all.
func codeFor(status, message, def string) string {
	switch status {
	case "INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE":
		if strings.Contains(message, "API key not valid") || strings.Contains(message, "API key expired") {
			return provider.CodeAuth
		}
		if strings.Contains(message, "exceeds the maximum number of tokens") || strings.Contains(message, "token count") && strings.Contains(message, "exceeds") {
			return provider.CodeTooLarge
		}
		return provider.CodeBadRequest
	case "UNAUTHENTICATED":
		return provider.CodeAuth
	case "PERMISSION_DENIED":
		return provider.CodeForbidden
	case "NOT_FOUND":
		return provider.CodeNotFound
	case "RESOURCE_EXHAUSTED":
		return provider.CodeRateLimited
	case "UNAVAILABLE":
		return provider.CodeUnavailable
	case "DEADLINE_EXCEEDED":
		return provider.CodeTimeout
	case "INTERNAL", "UNKNOWN", "DATA_LOSS":
		return provider.CodeUpstream
	}
	return def
}

// do sends a request and refines an error answer's code.
func (a *adapter) do(ctx context.Context, r provider.Request) (*http.Response, error) {
	res, err := a.c.Do(ctx, r)
	if e, ok := provider.AsError(err); ok && e.Status != 0 && e.Type != "" {
		e.Code = codeFor(e.Type, e.Message, e.Code)
	}
	return res, err
}

// modelPath is the path of a model's method.
func (a *adapter) modelPath(model, method string) (string, error) {
	model = strings.TrimPrefix(model, "publishers/google/")
	model = strings.TrimPrefix(model, "models/")
	if model == "" {
		return "", invalid("no model given")
	}
	if strings.ContainsAny(model, "/?#:") {
		return "", invalid("model %q is not a model id", model)
	}
	if a.vertex {
		return "/publishers/google/models/" + url.PathEscape(model) + ":" + method, nil
	}
	return "/models/" + url.PathEscape(model) + ":" + method, nil
}

// post sends a JSON body to a model's method.
func (a *adapter) post(ctx context.Context, model, method string, q url.Values, in any) (*http.Response, error) {
	path, err := a.modelPath(model, method)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(in)
	if err != nil {
		return nil, provider.Errorf(provider.CodeBadRequest, err, "cannot encode the request: %v", err)
	}
	return a.do(ctx, provider.Request{Method: http.MethodPost, Path: path, Query: q, Body: body})
}

// readError classifies a failure to read an answer's body.
func readError(ctx context.Context, err error) *provider.Error {
	if ctx.Err() != nil {
		return provider.TransportError(ctx, ctx.Err())
	}
	if e, ok := provider.AsError(err); ok {
		return e
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return provider.Errorf(provider.CodeNetwork, err, "the answer ended early")
	}
	return provider.TransportError(ctx, err)
}

func decode(ctx context.Context, res *http.Response, out any) error {
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return readError(ctx, err)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return provider.Errorf(provider.CodeBadResponse, err, "the provider's answer is not the JSON expected: %v", err)
	}
	return nil
}

func (a *adapter) Chat(ctx context.Context, req *provider.ChatRequest) (*provider.ChatResponse, error) {
	body, err := translate(req)
	if err != nil {
		return nil, err
	}
	res, err := a.post(ctx, req.Model, "generateContent", nil, body)
	if err != nil {
		return nil, err
	}
	var r response
	if err := decode(ctx, res, &r); err != nil {
		return nil, err
	}
	out, err := fromResponse(&r, req.Model)
	if err != nil {
		return nil, err
	}
	out.Created = a.now()
	return out, nil
}

// Embed uses :batchEmbedContents on the Gemini API and :predict on Vertex,
// embedBatch inputs a request (one on Vertex's gemini-embedding models,
// which take a single instance).
func (a *adapter) Embed(ctx context.Context, req *provider.EmbedRequest) (*provider.EmbedResponse, error) {
	if len(req.Input) == 0 {
		return nil, invalid("no input to embed")
	}
	out := &provider.EmbedResponse{Model: req.Model}
	batch := embedBatch
	if a.vertex && strings.Contains(req.Model, "gemini-embedding") {
		batch = 1
	}
	for start := 0; start < len(req.Input); start += batch {
		inputs := req.Input[start:min(start+batch, len(req.Input))]
		var vecs [][]float32
		var err error
		if a.vertex {
			vecs, err = a.predict(ctx, req, inputs, &out.Usage)
		} else {
			vecs, err = a.batchEmbed(ctx, req, inputs)
		}
		if err != nil {
			return nil, err
		}
		if len(vecs) != len(inputs) {
			return nil, provider.Errorf(provider.CodeBadResponse, nil, "the provider returned %d embeddings for %d inputs", len(vecs), len(inputs))
		}
		out.Vectors = append(out.Vectors, vecs...)
	}
	return out, nil
}

func (a *adapter) batchEmbed(ctx context.Context, req *provider.EmbedRequest, inputs []string) ([][]float32, error) {
	type embedRequest struct {
		Model                string  `json:"model"`
		Content              content `json:"content"`
		OutputDimensionality int     `json:"outputDimensionality,omitempty"`
	}
	model := "models/" + strings.TrimPrefix(req.Model, "models/")
	body := struct {
		Requests []embedRequest `json:"requests"`
	}{}
	for _, in := range inputs {
		body.Requests = append(body.Requests, embedRequest{Model: model, Content: content{Parts: []part{textPart(in)}}, OutputDimensionality: req.Dimensions})
	}
	res, err := a.post(ctx, req.Model, "batchEmbedContents", nil, body)
	if err != nil {
		return nil, err
	}
	var r struct {
		Embeddings []struct {
			Values []float32 `json:"values"`
		} `json:"embeddings"`
	}
	if err := decode(ctx, res, &r); err != nil {
		return nil, err
	}
	vecs := make([][]float32, len(r.Embeddings))
	for i, e := range r.Embeddings {
		vecs[i] = e.Values
	}
	return vecs, nil
}

func (a *adapter) predict(ctx context.Context, req *provider.EmbedRequest, inputs []string, usage *provider.Usage) ([][]float32, error) {
	type instance struct {
		Content string `json:"content"`
	}
	body := struct {
		Instances  []instance     `json:"instances"`
		Parameters map[string]any `json:"parameters,omitempty"`
	}{}
	for _, in := range inputs {
		body.Instances = append(body.Instances, instance{Content: in})
	}
	if req.Dimensions > 0 {
		body.Parameters = map[string]any{"outputDimensionality": req.Dimensions}
	}
	res, err := a.post(ctx, req.Model, "predict", nil, body)
	if err != nil {
		return nil, err
	}
	var r struct {
		Predictions []struct {
			Embeddings struct {
				Values     []float32 `json:"values"`
				Statistics struct {
					TokenCount float64 `json:"token_count"`
				} `json:"statistics"`
			} `json:"embeddings"`
		} `json:"predictions"`
	}
	if err := decode(ctx, res, &r); err != nil {
		return nil, err
	}
	vecs := make([][]float32, len(r.Predictions))
	for i, p := range r.Predictions {
		vecs[i] = p.Embeddings.Values
		usage.InputTokens += int(p.Embeddings.Statistics.TokenCount)
	}
	return vecs, nil
}

type modelPage struct {
	Models []struct {
		Name                       string   `json:"name"`
		DisplayName                string   `json:"displayName"`
		InputTokenLimit            int      `json:"inputTokenLimit"`
		OutputTokenLimit           int      `json:"outputTokenLimit"`
		SupportedGenerationMethods []string `json:"supportedGenerationMethods"`
	} `json:"models"`
	NextPageToken string `json:"nextPageToken"`
}

func (a *adapter) modelPage(ctx context.Context, size int, token string) (*modelPage, error) {
	q := url.Values{"pageSize": {strconv.Itoa(size)}}
	if token != "" {
		q.Set("pageToken", token)
	}
	res, err := a.do(ctx, provider.Request{Method: http.MethodGet, Path: "/models", Query: q})
	if err != nil {
		return nil, err
	}
	var page modelPage
	if err := decode(ctx, res, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// ListModels follows the Gemini API's model list (pageToken), at most
// maxModelPages pages. Vertex has none (see the package comment).
func (a *adapter) ListModels(ctx context.Context) ([]provider.ModelInfo, error) {
	if a.vertex {
		return nil, provider.ErrUnsupported
	}
	var out []provider.ModelInfo
	token := ""
	for range maxModelPages {
		page, err := a.modelPage(ctx, modelPageSize, token)
		if err != nil {
			return nil, err
		}
		for _, m := range page.Models {
			info := provider.ModelInfo{ID: strings.TrimPrefix(m.Name, "models/"), DisplayName: m.DisplayName,
				ContextWindow: m.InputTokenLimit, OwnedBy: "google"}
			for _, method := range m.SupportedGenerationMethods {
				switch method {
				case "embedContent":
					info.Embeddings = true
				case "generateContent":
					info.MaxOutputTokens = m.OutputTokenLimit
				}
			}
			out = append(out, info)
		}
		if page.NextPageToken == "" || page.NextPageToken == token {
			break
		}
		token = page.NextPageToken
	}
	return out, nil
}

// Ping asks the Gemini API for one model, and counts a word's tokens on
// Vertex (see the package comment); both are free.
func (a *adapter) Ping(ctx context.Context) error {
	if !a.vertex {
		_, err := a.modelPage(ctx, 1, "")
		return err
	}
	res, err := a.post(ctx, a.pingModel, "countTokens", nil, map[string]any{
		"contents": []content{{Role: "user", Parts: []part{textPart("ping")}}}})
	if err != nil {
		return err
	}
	var r struct {
		TotalTokens *int `json:"totalTokens"`
	}
	if err := decode(ctx, res, &r); err != nil {
		return err
	}
	if r.TotalTokens == nil {
		return provider.Errorf(provider.CodeBadResponse, nil, "the token count answer has no totalTokens")
	}
	return nil
}
