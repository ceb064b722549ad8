// Package openai implements provider.Adapter for OpenAI's Chat Completions
// API and for every OpenAI-compatible server (Groq, Mistral, DeepSeek, xAI,
// Together, Fireworks, OpenRouter, Cohere's compatibility API, Perplexity,
// Cerebras, vLLM, LM Studio): POST {base}/chat/completions (JSON, or SSE
// with stream_options.include_usage), POST {base}/embeddings and
// GET {base}/models. The base URL includes the version path
// ("https://api.openai.com/v1").
//
// The answer's length bound goes out as max_completion_tokens for the
// openai protocol (OpenAI deprecated max_tokens and its reasoning models
// refuse it) and as max_tokens for openai_compatible, the one field every
// compatible server accepts (several accept max_completion_tokens too, but
// Mistral, DeepSeek, Together, OpenRouter, Perplexity and LM Studio document
// only max_tokens, and Mistral refuses unknown fields). The provider
// parameter max_tokens_field overrides the choice; stream_usage=false leaves
// stream_options out for a server that refuses it.
//
// Usage: InputTokens is prompt_tokens (cached tokens included),
// CachedInputTokens is prompt_tokens_details.cached_tokens, OutputTokens is
// completion_tokens (reasoning included) and ReasoningTokens is
// completion_tokens_details.reasoning_tokens.
//
// The translation is exported (EncodeChat, DecodeChat, NewChatStream,
// EncodeEmbed, DecodeEmbed, ParseError) for provider/azure.
package openai

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/provider"
)

// Adapter speaks Chat Completions to one provider with one credential.
type Adapter struct {
	client *provider.Client
	opts   EncodeOptions
}

// New returns the adapter of an openai or openai_compatible provider.
func New(cfg provider.Config) (provider.Adapter, error) {
	return NewAdapter(cfg)
}

// NewAdapter is New with the concrete type.
func NewAdapter(cfg provider.Config) (*Adapter, error) {
	cfg.HTTP = NoRedirects(cfg.HTTP)
	c, err := cfg.Client(provider.BearerPlacement, ParseError)
	if err != nil {
		return nil, err
	}
	field := MaxTokens
	if cfg.Provider.Protocol == switchyard.ProtocolOpenAI {
		field = MaxCompletionTokens
	}
	field = cfg.Param("max_tokens_field", field)
	if field != MaxTokens && field != MaxCompletionTokens {
		return nil, fmt.Errorf("openai: max_tokens_field is %q; want %s or %s", field, MaxTokens, MaxCompletionTokens)
	}
	return &Adapter{client: c, opts: EncodeOptions{MaxTokensField: field, StreamUsage: cfg.Param("stream_usage", "true") != "false"}}, nil
}

// Chat sends a chat request and waits for the whole answer.
func (a *Adapter) Chat(ctx context.Context, req *provider.ChatRequest) (*provider.ChatResponse, error) {
	body, err := a.encode(req, false)
	if err != nil {
		return nil, err
	}
	return Chat(ctx, a.client, provider.Request{Method: http.MethodPost, Path: "/chat/completions", Body: body})
}

// ChatStream sends a chat request and returns the answer as it comes.
func (a *Adapter) ChatStream(ctx context.Context, req *provider.ChatRequest) (provider.ChatStream, error) {
	body, err := a.encode(req, true)
	if err != nil {
		return nil, err
	}
	return Stream(ctx, a.client, provider.Request{Method: http.MethodPost, Path: "/chat/completions", Body: body})
}

func (a *Adapter) encode(req *provider.ChatRequest, stream bool) ([]byte, error) {
	opts := a.opts
	opts.Stream = stream
	body, err := EncodeChat(req, opts)
	if err != nil {
		return nil, provider.Errorf(provider.CodeBadRequest, err, "cannot encode the request: %v", err)
	}
	return body, nil
}

// Embed returns embedding vectors.
func (a *Adapter) Embed(ctx context.Context, req *provider.EmbedRequest) (*provider.EmbedResponse, error) {
	body, err := EncodeEmbed(req, false)
	if err != nil {
		return nil, provider.Errorf(provider.CodeBadRequest, err, "cannot encode the request: %v", err)
	}
	return Embed(ctx, a.client, provider.Request{Method: http.MethodPost, Path: "/embeddings", Body: body}, len(req.Input))
}

// ListModels returns GET /models.
func (a *Adapter) ListModels(ctx context.Context) ([]provider.ModelInfo, error) {
	body, err := Get(ctx, a.client, provider.Request{Method: http.MethodGet, Path: "/models"})
	if err != nil {
		return nil, err
	}
	return DecodeModels(body)
}

// Ping lists the models: the cheapest authenticated call. The answer must
// parse, so that a base URL pointing at some other server fails.
func (a *Adapter) Ping(ctx context.Context) error {
	_, err := a.ListModels(ctx)
	return err
}

// Get sends r and reads the whole answer.
func Get(ctx context.Context, c *provider.Client, r provider.Request) ([]byte, error) {
	res, err := c.Do(ctx, r)
	if err != nil {
		return nil, Refine(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, provider.TransportError(ctx, err)
	}
	return body, nil
}

// Chat sends a chat request and decodes the answer.
func Chat(ctx context.Context, c *provider.Client, r provider.Request) (*provider.ChatResponse, error) {
	body, err := Get(ctx, c, r)
	if err != nil {
		return nil, err
	}
	return DecodeChat(body)
}

// Stream sends a streamed chat request and returns its stream.
func Stream(ctx context.Context, c *provider.Client, r provider.Request) (provider.ChatStream, error) {
	res, err := c.Do(ctx, r)
	if err != nil {
		return nil, Refine(err)
	}
	if ct := res.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/json") {
		// A server that ignored "stream" and answered at once.
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			return nil, provider.TransportError(ctx, err)
		}
		return nil, provider.Errorf(provider.CodeBadResponse, nil, "the provider answered a stream request with JSON: %s",
			provider.Truncate(string(body), 200))
	}
	return NewChatStream(ctx, res.Body), nil
}

// Embed sends an embeddings request and decodes the answer.
func Embed(ctx context.Context, c *provider.Client, r provider.Request, inputs int) (*provider.EmbedResponse, error) {
	body, err := Get(ctx, c, r)
	if err != nil {
		return nil, err
	}
	return DecodeEmbed(body, inputs)
}

// Refine sharpens the code of an error answer from what the provider's
// error code says (a context length error is too_large whatever its status).
func Refine(err error) error {
	if e, ok := provider.AsError(err); ok {
		switch e.Type {
		case "context_length_exceeded", "string_above_max_length":
			e.Code = provider.CodeTooLarge
		}
	}
	return err
}

// DecodeModels reads a /models list. OpenRouter's entries also give a name,
// context_length, top_provider.max_completion_tokens and the architecture's
// modalities; they are used when present.
func DecodeModels(body []byte) ([]provider.ModelInfo, error) {
	var r struct {
		Data []struct {
			ID            string `json:"id"`
			Name          string `json:"name"`
			Created       int64  `json:"created"`
			OwnedBy       string `json:"owned_by"`
			ContextLength int    `json:"context_length"`
			TopProvider   *struct {
				MaxCompletionTokens int `json:"max_completion_tokens"`
			} `json:"top_provider"`
			Architecture *struct {
				InputModalities  []string `json:"input_modalities"`
				OutputModalities []string `json:"output_modalities"`
			} `json:"architecture"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, provider.Errorf(provider.CodeBadResponse, err, "the provider's model list is not the JSON expected: %v", err)
	}
	out := make([]provider.ModelInfo, 0, len(r.Data))
	for _, m := range r.Data {
		if m.ID == "" {
			continue
		}
		mi := provider.ModelInfo{ID: m.ID, DisplayName: m.Name, OwnedBy: m.OwnedBy, ContextWindow: m.ContextLength,
			Embeddings: strings.Contains(strings.ToLower(m.ID), "embed")}
		if m.Created > 0 {
			mi.Created = time.Unix(m.Created, 0).UTC()
		}
		if m.TopProvider != nil {
			mi.MaxOutputTokens = m.TopProvider.MaxCompletionTokens
		}
		if m.Architecture != nil {
			mi.InputModalities, mi.OutputModalities = m.Architecture.InputModalities, m.Architecture.OutputModalities
		}
		out = append(out, mi)
	}
	return out, nil
}

// NoRedirects returns d, or when d is an *http.Client that would follow
// redirects, a copy that does not: an upstream's redirect comes back as an
// error instead of taking the request (and its credential) elsewhere.
func NoRedirects(d provider.Doer) provider.Doer {
	if c, ok := d.(*http.Client); ok && c != nil && c.CheckRedirect == nil {
		cp := *c
		cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		return &cp
	}
	return d
}
