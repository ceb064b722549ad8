package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/auth"
	"github.com/switchyard/switchyard/provider"
	"github.com/switchyard/switchyard/registry"
)

// The request body the overhead harness sends (bench/cmd/loadgen), and a
// larger one: a system prompt, a few turns and a tool.
const (
	benchSmallBody = `{"model":"mock/gpt-4o-mini","messages":[{"role":"user","content":"Say hello in one short sentence."}],"stream":false}`
	benchLargeBody = `{"model":"mock/gpt-4o-mini","temperature":0.2,"max_tokens":512,"stream":false,` +
		`"messages":[{"role":"system","content":"You are a helpful assistant that answers briefly and cites the documentation when it can."},` +
		`{"role":"user","content":"What is the weather in Paris today? Answer in one sentence."},` +
		`{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},` +
		`{"role":"tool","tool_call_id":"call_1","content":"{\"temp_c\":14,\"sky\":\"overcast\"}"},` +
		`{"role":"user","content":[{"type":"text","text":"And tomorrow?"}]}],` +
		`"tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather for a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],` +
		`"tool_choice":"auto","stop":["\n\n"]}`
)

// BenchmarkDecodeRequest decodes an OpenAI chat body and translates it to
// the internal request, as chat does after reading the body.
func BenchmarkDecodeRequest(b *testing.B) {
	for _, tc := range []struct{ name, body string }{{"small", benchSmallBody}, {"large", benchLargeBody}} {
		b.Run(tc.name, func(b *testing.B) {
			body := []byte(tc.body)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				var req chatRequest
				if err := json.Unmarshal(body, &req); err != nil {
					b.Fatal(err)
				}
				if _, err := req.toInternal("gpt-4o-mini"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncodeResponse encodes a provider's answer as the OpenAI
// chat.completion the client receives (responseOut + json.Marshal).
func BenchmarkEncodeResponse(b *testing.B) {
	res := &provider.ChatResponse{
		Message: provider.Message{Role: provider.RoleAssistant, Content: []provider.Part{{Type: provider.PartText,
			Text: "Hello! This is a fixed mock completion used for gateway overhead benchmarking. It has a few sentences so that the payload is roughly the size of a short real answer."}}},
		FinishReason: provider.FinishStop,
		Usage:        provider.Usage{InputTokens: 12, OutputTokens: 34},
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(responseOut(res, "chatcmpl-0123456789abcdef01234567", "mock/gpt-4o-mini", 1700000000)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeChunk writes one streamed delta as a server-sent event.
func BenchmarkEncodeChunk(b *testing.B) {
	w := discardWriter{h: http.Header{}}
	enc := &chunkWriter{w: w, id: "chatcmpl-0123456789abcdef01234567", model: "mock/gpt-4o-mini", created: 1700000000}
	ch := &provider.ChatChunk{Text: "tok3 "}
	b.ReportAllocs()
	for b.Loop() {
		enc.delta(ch, false)
	}
}

type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d discardWriter) WriteHeader(int)             {}

// memSource is a registry source with only connections.
type memSource struct{ conns []*switchyard.Connection }

func (memSource) ListProviders(context.Context, switchyard.ProviderFilter) (switchyard.Page[*switchyard.Provider], error) {
	return switchyard.Page[*switchyard.Provider]{}, nil
}

func (memSource) ListModels(context.Context, switchyard.ModelFilter) (switchyard.Page[*switchyard.Model], error) {
	return switchyard.Page[*switchyard.Model]{}, nil
}

func (memSource) ListUsers(context.Context, switchyard.UserFilter) (switchyard.Page[*switchyard.User], error) {
	return switchyard.Page[*switchyard.User]{}, nil
}

func (s memSource) ListConnections(context.Context, switchyard.ConnectionFilter) (switchyard.Page[*switchyard.Connection], error) {
	return switchyard.Page[*switchyard.Connection]{Items: s.conns}, nil
}

// BenchmarkAuthenticate finds a request's connection by its gateway key
// (SHA-256 of the key, hex, map lookup) in a snapshot of 1,000 connections,
// then applies the rate limit step of a connection without a limit and of
// one with a limit.
func BenchmarkAuthenticate(b *testing.B) {
	var conns []*switchyard.Connection
	var keys []string
	for i := range 1000 {
		key, hash, _, err := auth.NewToken(auth.PrefixGatewayKey)
		if err != nil {
			b.Fatal(err)
		}
		rpm := 0
		if i%2 == 1 {
			rpm = 1 << 30
		}
		conns = append(conns, &switchyard.Connection{ID: "conn-" + strconv.Itoa(i), KeyHash: hash, Enabled: true, RateLimitRPM: rpm})
		keys = append(keys, key)
	}
	reg := registry.New(registry.Config{Source: memSource{conns: conns}})
	if err := reg.Reload(context.Background(), "bench"); err != nil {
		b.Fatal(err)
	}
	g := New(Config{Registry: reg})
	for _, tc := range []struct {
		name string
		key  string
	}{{"no-limit", keys[500]}, {"limit", keys[501]}} {
		b.Run(tc.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil)
			r.Header.Set("Authorization", "Bearer "+tc.key)
			w := discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				c, ok := g.authenticate(w, r, reg.Current())
				if !ok || !g.rateLimit(w, c) {
					b.Fatal("refused")
				}
			}
		})
	}
}
