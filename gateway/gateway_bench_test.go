package gateway_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/auth"
	"github.com/switchyard/switchyard/gateway"
	"github.com/switchyard/switchyard/netguard"
	"github.com/switchyard/switchyard/provider/protocols"
	"github.com/switchyard/switchyard/registry"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

// The same answers as bench/cmd/mock, the upstream of the overhead harness.
const (
	benchCompletion = `{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! This is a fixed mock completion used for gateway overhead benchmarking. It has a few sentences so that the payload is roughly the size of a short real answer."},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46},"system_fingerprint":"fp_mock"}`
	benchChunk      = "data: {\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok%d \"},\"finish_reason\":null}]}\n\n"
	benchLast       = "data: {\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":10,\"total_tokens\":22}}\n\ndata: [DONE]\n\n"
)

// benchUpstream answers like the harness's mock: a fixed completion, or 10
// SSE chunks flushed one by one.
func benchUpstream(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if !bytes.Contains(body, []byte(`"stream":true`)) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, benchCompletion)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	f := w.(http.Flusher)
	for i := range 10 {
		_, _ = fmt.Fprintf(w, benchChunk, i)
		f.Flush()
	}
	_, _ = io.WriteString(w, benchLast)
	f.Flush()
}

// benchGateway is a gateway over a SQLite store with one openai_compatible
// provider at an httptest upstream, one model and one connection; it
// returns the handler, the connection's key and the count of usage records.
func benchGateway(b *testing.B) (http.Handler, string, *atomic.Int64) {
	b.Helper()
	up := httptest.NewServer(http.HandlerFunc(benchUpstream))
	b.Cleanup(up.Close)
	db := storetest.SQLite().Open(b)
	pol, err := netguard.NewPolicy([]string{"127.0.0.1/32"})
	if err != nil {
		b.Fatal(err)
	}
	f := &protocols.Factory{HTTP: pol.Client(netguard.ClientOptions{}), TokenHTTP: pol.Client(netguard.ClientOptions{})}
	reg := registry.New(registry.Config{Source: db, NewAdapter: f.New})
	store := reg.Track(db)
	owner := &switchyard.User{Username: "bench-owner", Role: switchyard.RoleUser}
	if err := db.CreateUser(ctx, owner); err != nil {
		b.Fatal(err)
	}
	p := &switchyard.Provider{Name: "mock", Slug: "mock", Protocol: switchyard.ProtocolOpenAICompatible, BaseURL: up.URL + "/v1",
		Enabled: true, Credentials: []switchyard.Credential{apiKey("sk-mock")}}
	if err := store.CreateProvider(ctx, p); err != nil {
		b.Fatal(err)
	}
	m := model("gpt-4o-mini")
	m.ProviderID, m.Enabled = p.ID, true
	if err := store.CreateModels(ctx, []*switchyard.Model{m}); err != nil {
		b.Fatal(err)
	}
	key, hash, display, err := auth.NewToken(auth.PrefixGatewayKey)
	if err != nil {
		b.Fatal(err)
	}
	c := &switchyard.Connection{Name: "bench", OwnerID: owner.ID, KeyHash: hash, KeyPrefix: display, Enabled: true, ProviderID: p.ID}
	if err := store.CreateConnection(ctx, c); err != nil {
		b.Fatal(err)
	}
	if err := reg.Reload(ctx, "bench"); err != nil {
		b.Fatal(err)
	}
	var records atomic.Int64
	gw := gateway.New(gateway.Config{Registry: reg, Record: func(switchyard.UsageEvent) { records.Add(1) }})
	return gw, key, &records
}

// BenchmarkChatCompletion is one non-streaming chat completion through the
// gateway's handler (called directly, no client connection), with the
// upstream call over loopback to an in-process server: authentication,
// decoding, routing, translation, the adapter's request and response, the
// answer's encoding and the usage record.
func BenchmarkChatCompletion(b *testing.B) {
	benchChat(b, false)
}

// BenchmarkChatStream is the same with stream=true: 10 chunks relayed.
func BenchmarkChatStream(b *testing.B) {
	benchChat(b, true)
}

func benchChat(b *testing.B, stream bool) {
	gw, key, records := benchGateway(b)
	body := fmt.Sprintf(`{"model":"mock/gpt-4o-mini","messages":[{"role":"user","content":"Say hello in one short sentence."}],"stream":%v}`, stream)
	want := `"content":"Hello!`
	if stream {
		want = "data: [DONE]"
	}
	b.ReportAllocs()
	n := int64(0)
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) {
			b.Fatalf("%d %s", rec.Code, rec.Body.String())
		}
		n++
	}
	if got := records.Load(); got != n {
		b.Fatalf("%d usage records for %d requests", got, n)
	}
}
