package fake

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/azure"
	"github.com/openai/openai-go/v3/option"
)

const (
	azureKey     = "0123456789abcdef0123456789abcdef"
	azureToken   = "eyJ0eXAiOiJKV1QifQ.fake.token"
	azureVersion = "2024-10-21"
)

type staticToken string

func (s staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(s), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func newAzureFake() *Azure {
	return NewAzure(AzureConfig{
		APIKeys:     []string{azureKey},
		Tokens:      []string{azureToken},
		Deployments: map[string]string{"chat": "gpt-4o-mini", "embed": "text-embedding-3-small"},
		APIVersions: []string{azureVersion, "2025-04-01-preview"},
		Dimensions:  8,
	})
}

func TestAzureSDK(t *testing.T) {
	a := newAzureFake()
	srv := serve(t, a)
	ctx := context.Background()
	params := openai.ChatCompletionNewParams{Model: "chat", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello Azure")}}

	for name, auth := range map[string]option.RequestOption{
		"api key":  azure.WithAPIKey(azureKey),
		"entra id": azure.WithTokenCredential(staticToken(azureToken)),
	} {
		t.Run(name, func(t *testing.T) {
			client := openai.NewClient(azure.WithEndpoint(srv.URL, azureVersion), auth, azure.WithUnsafeAllowHTTP(), option.WithMaxRetries(0))
			res, err := client.Chat.Completions.New(ctx, params)
			if err != nil {
				t.Fatal(err)
			}
			if res.Model != "gpt-4o-mini" || res.Choices[0].Message.Content != "You said: Hello Azure" {
				t.Errorf("res = %+v", res)
			}
			last, _ := a.LastRequest()
			if last.Path != "/openai/deployments/chat/chat/completions" || last.Query.Get("api-version") != azureVersion {
				t.Errorf("request went to %s?%s", last.Path, last.Query.Encode())
			}

			stream := client.Chat.Completions.NewStreaming(ctx, params)
			acc := openai.ChatCompletionAccumulator{}
			for stream.Next() {
				acc.AddChunk(stream.Current())
			}
			if err := stream.Err(); err != nil || acc.Choices[0].Message.Content != "You said: Hello Azure" {
				t.Errorf("stream: %v %q", err, acc.Choices[0].Message.Content)
			}

			emb, err := client.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "embed", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("hi")}})
			if err != nil || len(emb.Data[0].Embedding) != 8 || emb.Model != "text-embedding-3-small" {
				t.Errorf("embeddings: %v %+v", err, emb)
			}
		})
	}

	client := openai.NewClient(azure.WithEndpoint(srv.URL, azureVersion), azure.WithAPIKey("wrong"), azure.WithUnsafeAllowHTTP(), option.WithMaxRetries(0))
	_, err := client.Chat.Completions.New(ctx, params)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || apiErr.Code != "401" {
		t.Errorf("wrong key: %v", err)
	}
	client = openai.NewClient(azure.WithEndpoint(srv.URL, azureVersion), azure.WithAPIKey(azureKey), azure.WithUnsafeAllowHTTP(), option.WithMaxRetries(0))
	params.Model = "nope"
	_, err = client.Chat.Completions.New(ctx, params)
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Code != "DeploymentNotFound" {
		t.Errorf("unknown deployment: %v", err)
	}
}

func TestAzureV1SDK(t *testing.T) {
	a := newAzureFake()
	srv := serve(t, a)
	client := openai.NewClient(option.WithBaseURL(srv.URL+"/openai/v1/"), option.WithHeader("api-key", azureKey), option.WithAPIKey(""), option.WithMaxRetries(0))
	res, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "chat", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("v1 route")},
	})
	if err != nil || res.Choices[0].Message.Content != "You said: v1 route" {
		t.Fatalf("%v %+v", err, res)
	}
}

func TestAzureGateway(t *testing.T) {
	a := newAzureFake()
	srv := serve(t, a)
	body := `{"messages":[{"role":"user","content":"hi"}]}`
	chat := srv.URL + "/openai/deployments/chat/chat/completions"
	key := map[string]string{"api-key": azureKey}
	cases := []struct {
		name    string
		url     string
		headers map[string]string
		body    string
		status  int
		code    any
	}{
		{"no api-version", chat, key, body, 404, "404"},
		{"unsupported api-version", chat + "?api-version=2020-01-01", key, body, 400, "BadRequest"},
		{"missing key", chat + "?api-version=" + azureVersion, nil, body, 401, "401"},
		{"wrong key", chat + "?api-version=" + azureVersion, map[string]string{"api-key": "nope"}, body, 401, "401"},
		{"key as bearer", chat + "?api-version=" + azureVersion, map[string]string{"Authorization": "Bearer " + azureKey}, body, 401, "401"},
		{"key in x-api-key", chat + "?api-version=" + azureVersion, map[string]string{"x-api-key": azureKey}, body, 401, "401"},
		{"unknown deployment", srv.URL + "/openai/deployments/nope/chat/completions?api-version=" + azureVersion, key, body, 404, "DeploymentNotFound"},
		{"malformed body", chat + "?api-version=" + azureVersion, key, `{`, 400, nil},
		{"token", chat + "?api-version=" + azureVersion, map[string]string{"Authorization": "Bearer " + azureToken}, body, 200, nil},
		{"models", srv.URL + "/openai/models?api-version=" + azureVersion, key, "", 200, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method := http.MethodPost
			if c.body == "" {
				method = http.MethodGet
			}
			status, _, b := call(t, method, c.url, c.headers, c.body)
			if status != c.status {
				t.Fatalf("status %d, want %d: %s", status, c.status, b)
			}
			if status != 200 && (field(t, b, "error", "code") != c.code || field(t, b, "error", "message") == "") {
				t.Errorf("body %s", b)
			}
		})
	}
}
