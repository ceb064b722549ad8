package bedrock

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/provider"
	"github.com/switchyard/switchyard/provider/fake"
)

const (
	keyID  = "AKIATESTBEDROCK00001"
	secret = "bedrock/test/secret/key/0123456789abcdef"
	region = "eu-central-1"
	haiku  = "anthropic.claude-3-5-haiku-20241022-v1:0"
)

// sigv4 is a test-only authenticator: it signs with the SDK's signer, as
// the production one in provider/tokenauth is meant to.
type sigv4 struct {
	creds   aws.Credentials
	region  string
	service string
}

func (s *sigv4) Apply(ctx context.Context, req *http.Request, body []byte) error {
	sum := sha256.Sum256(body)
	return v4.NewSigner().SignHTTP(ctx, s.creds, req, hex.EncodeToString(sum[:]), s.service, s.region, time.Now())
}

func (s *sigv4) Invalidate() bool { return false }

func tokens(cred switchyard.Credential, _ provider.AuthOptions) (provider.Authenticator, error) {
	if cred.Method != switchyard.AuthAWSSigV4 {
		return nil, errors.New("not sigv4")
	}
	return &sigv4{creds: aws.Credentials{AccessKeyID: cred.Secrets["access_key_id"].Reveal(),
		SecretAccessKey: cred.Secrets["secret_access_key"].Reveal()}, region: cred.Config["region"], service: cred.Config["service"]}, nil
}

func newFake(t *testing.T) (*fake.Bedrock, *httptest.Server) {
	t.Helper()
	f := fake.NewBedrock(fake.BedrockConfig{AccessKeys: map[string]string{keyID: secret}, Region: region})
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func newAdapter(t *testing.T, srv *httptest.Server, id, key string) provider.Adapter {
	t.Helper()
	a, err := New(provider.Config{
		Provider: &switchyard.Provider{Protocol: switchyard.ProtocolBedrock, BaseURL: srv.URL, Params: map[string]string{"region": region}},
		Credential: switchyard.Credential{Method: switchyard.AuthAWSSigV4, Config: map[string]string{"region": region, "service": "bedrock"},
			Secrets: map[string]switchyard.Secret{"access_key_id": switchyard.NewSecret(id), "secret_access_key": switchyard.NewSecret(key)}},
		HTTP:   srv.Client(),
		Tokens: tokens,
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func ask(model, text string) *provider.ChatRequest {
	return &provider.ChatRequest{Model: model, Messages: []provider.Message{provider.TextMessage(provider.RoleUser, text)}}
}

func TestChat(t *testing.T) {
	f, srv := newFake(t)
	a := newAdapter(t, srv, keyID, secret)
	ctx := context.Background()

	req := ask(haiku, "What is the capital of France?")
	req.Messages = append([]provider.Message{provider.TextMessage(provider.RoleSystem, "Be brief.")}, req.Messages...)
	res, err := a.Chat(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	want := "You said: What is the capital of France?"
	if res.Message.Text() != want || res.FinishReason != provider.FinishStop || res.Model != haiku || res.ID == "" ||
		res.Usage.OutputTokens != fake.Tokens(want) || res.Usage.InputTokens == 0 {
		t.Errorf("%+v", res)
	}
	last, _ := f.LastRequest()
	if !strings.HasPrefix(last.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential="+keyID+"/") || last.Path != "/model/"+haiku+"/converse" {
		t.Errorf("request %s %v", last.Path, last.Header)
	}

	// An ARN in the path: escaped, it stays one segment.
	if _, err := a.Chat(ctx, ask("arn:aws:bedrock:"+region+"::foundation-model/"+haiku, "hi")); err != nil {
		t.Errorf("ARN: %v", err)
	}
	// Stop sequence, max tokens.
	req = ask(haiku, "one two three four five")
	req.Stop = []string{"four"}
	if res, err := a.Chat(ctx, req); err != nil || res.FinishReason != provider.FinishStop || strings.Contains(res.Message.Text(), "four") {
		t.Errorf("stop: %v %+v", err, res)
	}
	req = ask(haiku, "one two three four five")
	req.MaxTokens, req.Temperature = 2, new(0.5)
	if res, err := a.Chat(ctx, req); err != nil || res.FinishReason != provider.FinishLength {
		t.Errorf("max tokens: %v %+v", err, res)
	}

	// A tool call, then its result.
	req = ask(haiku, "Use get_weather for Paris")
	req.Tools = []provider.Tool{weather}
	res, err = a.Chat(ctx, req)
	if err != nil || res.FinishReason != provider.FinishToolCalls || len(res.Message.ToolCalls) != 1 ||
		res.Message.ToolCalls[0].Name != "get_weather" || res.Message.ToolCalls[0].Arguments != `{"city":"fake"}` {
		t.Fatalf("tool call: %v %+v", err, res)
	}
	call := res.Message.ToolCalls[0]
	req.Messages = append(req.Messages, res.Message, provider.Message{Role: provider.RoleTool, ToolCallID: call.ID,
		Content: []provider.Part{{Type: provider.PartText, Text: "sunny, 21 C"}}})
	if res, err = a.Chat(ctx, req); err != nil || res.Message.Text() != "The tool returned: sunny, 21 C" || res.FinishReason != provider.FinishStop {
		t.Errorf("tool result: %v %+v", err, res)
	}

	// An image.
	req = ask(haiku, "What is this?")
	req.Messages[0].Content = append(req.Messages[0].Content, provider.Part{Type: provider.PartImage, Image: &provider.Image{MediaType: "image/png", Data: pngBytes}})
	if _, err := a.Chat(ctx, req); err != nil {
		t.Errorf("image: %v", err)
	}

	// Bedrock's validation error comes back as bad_request with its type.
	_, err = a.Chat(ctx, ask("nope.model-v1:0", "hi"))
	assertError(t, err, provider.CodeBadRequest, 400, "ValidationException")
}

func assertError(t *testing.T, err error, code string, status int, typ string) *provider.Error {
	t.Helper()
	e, ok := provider.AsError(err)
	if !ok {
		t.Fatalf("error %v (%T) is not a *provider.Error", err, err)
	}
	if e.Code != code || e.Status != status || e.Type != typ {
		t.Errorf("got %s %d %q (%s); want %s %d %q", e.Code, e.Status, e.Type, e.Message, code, status, typ)
	}
	return e
}

// drain reads a stream to its end.
func drain(s provider.ChatStream) (chunks []*provider.ChatChunk, err error) {
	defer s.Close()
	for {
		c, err := s.Recv()
		if err == io.EOF {
			return chunks, nil
		}
		if err != nil {
			return chunks, err
		}
		chunks = append(chunks, c)
	}
}

func TestChatStream(t *testing.T) {
	_, srv := newFake(t)
	a := newAdapter(t, srv, keyID, secret)
	ctx := context.Background()

	s, err := a.ChatStream(ctx, ask(haiku, "Tell me about streams"))
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := drain(s)
	if err != nil {
		t.Fatal(err)
	}
	var text string
	for _, c := range chunks {
		text += c.Text
	}
	first, last := chunks[0], chunks[len(chunks)-1]
	if text != "You said: Tell me about streams" || first.ID == "" || first.Model != haiku ||
		last.FinishReason != provider.FinishStop || last.Usage == nil || last.Usage.OutputTokens != fake.Tokens(text) {
		t.Errorf("text %q, first %+v, last %+v", text, first, last)
	}

	req := ask(haiku, "Paris?")
	req.Tools, req.ToolChoice = []provider.Tool{weather}, "required"
	s, err = a.ChatStream(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	chunks, err = drain(s)
	if err != nil {
		t.Fatal(err)
	}
	var id, name, args string
	for _, c := range chunks {
		for _, d := range c.ToolCalls {
			if d.Index != 0 {
				t.Errorf("index %d", d.Index)
			}
			id, name, args = id+d.ID, name+d.Name, args+d.Arguments
		}
	}
	last = chunks[len(chunks)-1]
	if !strings.HasPrefix(id, "tooluse_") || name != "get_weather" || args != `{"city":"fake"}` ||
		last.FinishReason != provider.FinishToolCalls || last.Usage == nil {
		t.Errorf("tool stream: %q %q %q %+v", id, name, args, last)
	}
}

func TestListModelsAndPing(t *testing.T) {
	f, srv := newFake(t)
	a := newAdapter(t, srv, keyID, secret)
	ctx := context.Background()
	models, err := a.ListModels(ctx)
	if err != nil || len(models) != len(fake.DefaultBedrockModels) {
		t.Fatalf("%v %+v", err, models)
	}
	byID := map[string]provider.ModelInfo{}
	for _, m := range models {
		byID[m.ID] = m
	}
	if m := byID[haiku]; m.OwnedBy != "Anthropic" || m.Embeddings || m.OutputModalities[0] != "text" {
		t.Errorf("%+v", m)
	}
	if m := byID["amazon.titan-embed-text-v2:0"]; !m.Embeddings {
		t.Errorf("%+v", m)
	}
	if err := a.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if last, _ := f.LastRequest(); last.Path != "/foundation-models" || last.Query.Get("byOutputModality") != "EMBEDDING" {
		t.Errorf("ping %s %v", last.Path, last.Query)
	}
	if _, err := a.Embed(ctx, &provider.EmbedRequest{Model: "amazon.titan-embed-text-v2:0", Input: []string{"x"}}); err != provider.ErrUnsupported {
		t.Errorf("embed: %v", err)
	}
}

func TestAuthErrors(t *testing.T) {
	_, srv := newFake(t)
	ctx := context.Background()
	_, err := newAdapter(t, srv, keyID, "not-the-secret").Chat(ctx, ask(haiku, "hi"))
	e := assertError(t, err, provider.CodeForbidden, 403, "InvalidSignatureException")
	if !strings.Contains(e.Message, "signature we calculated does not match") {
		t.Errorf("message %q", e.Message)
	}
	_, err = newAdapter(t, srv, "AKIANOBODY", secret).ChatStream(ctx, ask(haiku, "hi"))
	assertError(t, err, provider.CodeForbidden, 403, "UnrecognizedClientException")
	err = newAdapter(t, srv, keyID, "not-the-secret").Ping(ctx)
	assertError(t, err, provider.CodeForbidden, 403, "InvalidSignatureException")
}

func TestFaults(t *testing.T) {
	f, srv := newFake(t)
	a := newAdapter(t, srv, keyID, secret)
	ctx := context.Background()

	f.QueueFault(fake.RateLimit(2 * time.Second))
	_, err := a.Chat(ctx, ask(haiku, "hi"))
	if e := assertError(t, err, provider.CodeRateLimited, 429, "ThrottlingException"); e.RetryAfter != 2*time.Second || !e.Retryable() {
		t.Errorf("%+v", e)
	}
	f.QueueFault(fake.Status(500))
	_, err = a.ChatStream(ctx, ask(haiku, "hi"))
	assertError(t, err, provider.CodeUpstream, 500, "InternalServerException")
	f.QueueFault(fake.Malformed())
	_, err = a.Chat(ctx, ask(haiku, "hi"))
	assertError(t, err, provider.CodeBadResponse, 0, "")

	// Cut between messages and inside one (the HTTP body ends early either
	// way): the answer never finished.
	f.QueueFault(fake.Cut(3))
	s, err := a.ChatStream(ctx, ask(haiku, "one two three four"))
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := drain(s)
	assertError(t, err, provider.CodeNetwork, 0, "")
	if len(chunks) != 3 {
		t.Errorf("%d chunks before the cut", len(chunks))
	}

	f.QueueFault(fake.Fault{Kind: fake.FaultMalformed, After: 2})
	s, err = a.ChatStream(ctx, ask(haiku, "one two three four"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = drain(s)
	if e := assertError(t, err, provider.CodeBadResponse, 0, ""); !strings.Contains(e.Message, "CRC") {
		t.Errorf("message %q", e.Message)
	}

	f.QueueStreamException(fake.StreamException{After: 2, Type: "throttlingException", Message: "Too many tokens, please wait."})
	s, err = a.ChatStream(ctx, ask(haiku, "one two three four"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = drain(s)
	if e := assertError(t, err, provider.CodeRateLimited, 0, "throttlingException"); e.Message != "Too many tokens, please wait." {
		t.Errorf("message %q", e.Message)
	}
	f.QueueStreamException(fake.StreamException{After: 1, Type: "modelStreamErrorException", Message: "The model failed."})
	s, _ = a.ChatStream(ctx, ask(haiku, "hi"))
	_, err = drain(s)
	assertError(t, err, provider.CodeUpstream, 0, "modelStreamErrorException")

	// Cancelling the context ends a stream as a network failure.
	cctx, cancel := context.WithCancel(ctx)
	f.QueueFault(fake.Stall(1))
	s, err = a.ChatStream(cctx, ask(haiku, "hi"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = s.Recv()
	assertError(t, err, provider.CodeNetwork, 0, "")
	s.Close()
}
