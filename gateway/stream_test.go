package gateway_test

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
)

// unwrapOnly hides the server's http.Flusher behind a wrapper that, like
// the server's own middleware, offers only Unwrap.
type unwrapOnly struct{ http.ResponseWriter }

func (u unwrapOnly) Unwrap() http.ResponseWriter { return u.ResponseWriter }

// Chunks are never held back: every chunk that has reached the gateway is
// at the client before the gateway waits on the upstream again, including
// when events that carry nothing follow it in the same read, and behind
// middleware that wraps the response writer.
func TestStreamChunksAreNotHeldBack(t *testing.T) {
	cases := []struct {
		protocol switchyard.Protocol
		// before is sent at once, after only once the client has
		// received "one" and "two".
		before, after []string
	}{
		{switchyard.ProtocolOpenAICompatible, []string{
			`data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"one"}}]}`,
			`data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"two"}}]}`,
			`: a comment, then an event with nothing in it`,
			`data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{}}]}`,
		}, []string{
			`data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"three"},"finish_reason":"stop"}]}`,
			`data: [DONE]`,
		}},
		{switchyard.ProtocolAnthropic, []string{
			"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"m\",\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}",
			"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}",
			"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"one\"}}",
			"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"two\"}}",
			"event: ping\ndata: {\"type\":\"ping\"}",
		}, []string{
			"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}",
			"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":3}}",
			"event: message_stop\ndata: {\"type\":\"message_stop\"}",
		}},
	}
	for _, tc := range cases {
		t.Run(string(tc.protocol), func(t *testing.T) {
			r := newRig(t)
			release := make(chan struct{})
			up := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				// Everything before the pause in one write, as events
				// that arrive together.
				_, _ = io.WriteString(w, strings.Join(tc.before, "\n\n")+"\n\n")
				w.(http.Flusher).Flush()
				select {
				case <-release:
				case <-req.Context().Done():
					return
				}
				_, _ = io.WriteString(w, strings.Join(tc.after, "\n\n")+"\n\n")
			})
			slug := "held-" + strings.ReplaceAll(string(tc.protocol), "_", "-")
			r.addProvider(providerSpec{slug: slug, protocol: tc.protocol, baseURL: r.upstream(up) + "/v1",
				cred: apiKey(upstreamKey), models: []*switchyard.Model{model("m")}})
			key := r.connect(switchyard.Connection{Models: []string{slug + "/m"}})
			wrapped := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				r.gw.Config.Handler.ServeHTTP(unwrapOnly{w}, req)
			}))
			defer wrapped.Close()

			req, _ := http.NewRequest(http.MethodPost, wrapped.URL+"/v1/chat/completions",
				strings.NewReader(`{"model":"`+slug+`/m","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
			req.Header.Set("Authorization", "Bearer "+key)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b, _ := io.ReadAll(res.Body)
				t.Fatalf("status %d: %s", res.StatusCode, b)
			}
			lines := make(chan string)
			go func() {
				defer close(lines)
				sc := bufio.NewScanner(res.Body)
				for sc.Scan() {
					lines <- sc.Text()
				}
			}()
			var got strings.Builder
			timeout := time.After(5 * time.Second)
			for !strings.Contains(got.String(), `"content":"two"`) {
				select {
				case l, ok := <-lines:
					if !ok {
						t.Fatalf("the stream ended before the pause: %s", got.String())
					}
					got.WriteString(l + "\n")
				case <-timeout:
					t.Fatalf("chunks that reached the gateway were held back while it waited on the upstream; the client has:\n%s", got.String())
				}
			}
			close(release)
			for l := range lines {
				got.WriteString(l + "\n")
			}
			if !strings.Contains(got.String(), `"content":"three"`) && tc.protocol == switchyard.ProtocolOpenAICompatible ||
				!strings.HasSuffix(got.String(), "data: [DONE]\n\n") {
				t.Fatalf("the rest of the answer is missing:\n%s", got.String())
			}
			if u := r.lastUsage(); u.Status != switchyard.UsageOK {
				t.Fatalf("usage = %+v", u)
			}
		})
	}
}
