// Package azure implements provider.Adapter for Azure OpenAI's deployment
// API: POST {base}/openai/deployments/{deployment}/chat/completions and
// /embeddings with ?api-version= (the provider parameter api_version,
// default DefaultAPIVersion). The request's Model is the deployment name;
// the body is OpenAI's (provider/openai does the translation) without
// "model". Keys go in the api-key header; an azure_ad credential gives a
// bearer token instead.
//
// Listing: the data-plane GET /openai/deployments was retired after
// api-version 2023-03-15-preview (deployments moved to the Azure Resource
// Manager control plane, which takes a management token and a subscription,
// not the resource's key). So ListModels calls GET /openai/deployments for
// those old versions and GET /openai/models (the data-plane authoring
// list, in every later version) otherwise. /openai/models lists the models
// the resource can deploy, not its deployments: their ids are model names,
// which are callable only where a deployment has the same name. Ping makes
// the same call.
//
// Errors: Azure's gateway answers {"error":{"code","message"}} and passes
// the model's OpenAI-shaped errors through; openai.ParseError reads both.
//
// max_completion_tokens bounds the answer, as on OpenAI (Azure's API has
// taken it since 2024-09-01-preview and its reasoning models require it);
// the provider parameter max_tokens_field=max_tokens sends max_tokens for an
// older api-version.
package azure

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchyard/switchyard/provider"
	"github.com/switchyard/switchyard/provider/openai"
)

// DefaultAPIVersion is the api-version used when the provider sets none.
const DefaultAPIVersion = "2024-10-21"

// lastDeploymentsVersion is the last api-version whose data plane lists
// deployments.
const lastDeploymentsVersion = "2023-03-15"

// Adapter speaks Azure OpenAI to one resource with one credential.
type Adapter struct {
	client  *provider.Client
	version string
	opts    openai.EncodeOptions
}

// New returns the adapter of an azure_openai provider.
func New(cfg provider.Config) (provider.Adapter, error) {
	cfg.HTTP = openai.NoRedirects(cfg.HTTP)
	c, err := cfg.Client(provider.AzurePlacement, openai.ParseError)
	if err != nil {
		return nil, err
	}
	field := cfg.Param("max_tokens_field", openai.MaxCompletionTokens)
	if field != openai.MaxTokens && field != openai.MaxCompletionTokens {
		return nil, fmt.Errorf("azure: max_tokens_field is %q; want %s or %s", field, openai.MaxTokens, openai.MaxCompletionTokens)
	}
	return &Adapter{client: c, version: cfg.Param("api_version", DefaultAPIVersion),
		opts: openai.EncodeOptions{OmitModel: true, MaxTokensField: field, StreamUsage: true}}, nil
}

func (a *Adapter) request(method, path string, body []byte) provider.Request {
	return provider.Request{Method: method, Path: path, Body: body, Query: url.Values{"api-version": {a.version}}}
}

func deploymentPath(model, op string) (string, error) {
	if model == "" {
		return "", provider.Errorf(provider.CodeBadRequest, nil, "no deployment named")
	}
	return "/openai/deployments/" + url.PathEscape(model) + "/" + op, nil
}

func (a *Adapter) chatRequest(req *provider.ChatRequest, stream bool) (provider.Request, error) {
	path, err := deploymentPath(req.Model, "chat/completions")
	if err != nil {
		return provider.Request{}, err
	}
	opts := a.opts
	opts.Stream = stream
	body, err := openai.EncodeChat(req, opts)
	if err != nil {
		return provider.Request{}, provider.Errorf(provider.CodeBadRequest, err, "cannot encode the request: %v", err)
	}
	return a.request(http.MethodPost, path, body), nil
}

// Chat sends a chat request to the deployment req.Model.
func (a *Adapter) Chat(ctx context.Context, req *provider.ChatRequest) (*provider.ChatResponse, error) {
	r, err := a.chatRequest(req, false)
	if err != nil {
		return nil, err
	}
	return openai.Chat(ctx, a.client, r)
}

// ChatStream streams a chat request to the deployment req.Model.
func (a *Adapter) ChatStream(ctx context.Context, req *provider.ChatRequest) (provider.ChatStream, error) {
	r, err := a.chatRequest(req, true)
	if err != nil {
		return nil, err
	}
	return openai.Stream(ctx, a.client, r)
}

// Embed asks the deployment req.Model for embeddings.
func (a *Adapter) Embed(ctx context.Context, req *provider.EmbedRequest) (*provider.EmbedResponse, error) {
	path, err := deploymentPath(req.Model, "embeddings")
	if err != nil {
		return nil, err
	}
	body, err := openai.EncodeEmbed(req, true)
	if err != nil {
		return nil, provider.Errorf(provider.CodeBadRequest, err, "cannot encode the request: %v", err)
	}
	return openai.Embed(ctx, a.client, a.request(http.MethodPost, path, body), len(req.Input))
}

// listsDeployments reports whether the api-version's data plane lists
// deployments.
func (a *Adapter) listsDeployments() bool {
	v := a.version
	if len(v) > len("2006-01-02") {
		v = v[:len("2006-01-02")]
	}
	return v <= lastDeploymentsVersion
}

// ListModels lists the deployments (api-version up to 2023-03-15-preview)
// or the resource's models (later versions).
func (a *Adapter) ListModels(ctx context.Context) ([]provider.ModelInfo, error) {
	path := "/openai/models"
	if a.listsDeployments() {
		path = "/openai/deployments"
	}
	body, err := openai.Get(ctx, a.client, a.request(http.MethodGet, path, nil))
	if err != nil {
		return nil, err
	}
	var r struct {
		Data []struct {
			ID           string `json:"id"`
			Model        string `json:"model"`
			Status       string `json:"status"`
			CreatedAt    int64  `json:"created_at"`
			Capabilities *struct {
				ChatCompletion bool `json:"chat_completion"`
				Embeddings     bool `json:"embeddings"`
			} `json:"capabilities"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, provider.Errorf(provider.CodeBadResponse, err, "the model list is not the JSON expected: %v", err)
	}
	out := make([]provider.ModelInfo, 0, len(r.Data))
	for _, m := range r.Data {
		if m.ID == "" {
			continue
		}
		mi := provider.ModelInfo{ID: m.ID, Embeddings: strings.Contains(m.ID, "embedding")}
		if m.Model != "" && m.Model != m.ID {
			// A deployment: its id is what requests name; say what it runs.
			mi.DisplayName = m.ID + " (" + m.Model + ")"
			mi.Embeddings = strings.Contains(m.Model, "embedding")
		}
		if m.Capabilities != nil {
			mi.Embeddings = m.Capabilities.Embeddings
		}
		if m.CreatedAt > 0 {
			mi.Created = time.Unix(m.CreatedAt, 0).UTC()
		}
		out = append(out, mi)
	}
	return out, nil
}

// Ping lists the models (or deployments).
func (a *Adapter) Ping(ctx context.Context) error {
	_, err := a.ListModels(ctx)
	return err
}
