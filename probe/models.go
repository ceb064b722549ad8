package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/netguard"
	"github.com/switchyard/switchyard/provider"
)

// ModelTestOptions bound a model test.
type ModelTestOptions struct {
	// CallTimeout bounds each upstream call (default 30 s).
	CallTimeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (o ModelTestOptions) timeout() time.Duration {
	if o.CallTimeout > 0 {
		return o.CallTimeout
	}
	return 30 * time.Second
}

// The calls a model test makes are small: a few words in, a few tokens out.
const (
	testPrompt    = "Reply with the single word OK."
	testMaxTokens = 16
	testToolName  = "get_weather"
)

var testTool = provider.Tool{Name: testToolName, Description: "Returns the current weather in a city.",
	Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string","description":"The city name."}},"required":["city"]}`)}

// CredentialFor returns the provider's first active credential that serves
// the upstream model ("" for any).
func CredentialFor(p *switchyard.Provider, upstreamID string) (switchyard.Credential, bool) {
	for _, c := range p.Credentials {
		if c.Status != "" && c.Status != switchyard.CredentialActive {
			continue
		}
		if upstreamID == "" || len(c.Models) == 0 || slices.Contains(c.Models, upstreamID) {
			return c, true
		}
	}
	return switchyard.Credential{}, false
}

// TestModel makes one real, minimal call to the model (a streamed chat
// answer of a few tokens, or one embedding for an embeddings model) and
// reports its latency, time to first token and token counts. When the call
// succeeds it then verifies the capabilities: streaming (from that call),
// tool calling (one tool offered and asked for), JSON mode (json_object,
// and the text must parse), vision (a tiny generated PNG, only when the
// model declares vision) and embeddings (only when declared). At most five
// upstream calls, each bounded by the call timeout.
func TestModel(ctx context.Context, a provider.Adapter, m *switchyard.Model, opts ModelTestOptions) *switchyard.TestResult {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	res := &switchyard.TestResult{At: now().UTC()}
	checks := map[string]*switchyard.CapabilityCheck{}
	for _, name := range switchyard.CapabilityChecks {
		checks[name] = &switchyard.CapabilityCheck{Name: name, Declared: declared(m, name), Result: switchyard.CheckUnknown,
			Message: "not tried"}
	}
	defer func() {
		for _, name := range switchyard.CapabilityChecks {
			res.Checks = append(res.Checks, *checks[name])
		}
	}()
	call := func(fn func(ctx context.Context) error) error {
		cctx, cancel := context.WithTimeout(ctx, opts.timeout())
		defer cancel()
		return fn(cctx)
	}

	if isEmbeddings(m) {
		start := time.Now()
		var out *provider.EmbedResponse
		err := call(func(ctx context.Context) (err error) {
			out, err = a.Embed(ctx, &provider.EmbedRequest{Model: m.UpstreamID, Input: []string{"Switchyard model test"}})
			return err
		})
		res.LatencyMS = time.Since(start).Milliseconds()
		if err == nil && (out == nil || len(out.Vectors) != 1 || len(out.Vectors[0]) == 0) {
			err = provider.Errorf(provider.CodeBadResponse, nil, "the embedding answer holds no vector")
		}
		if err != nil {
			failTest(res, err)
			checks["embeddings"].Result, checks["embeddings"].Message = refusedOr(err, switchyard.CheckUnknown), short(err)
			return res
		}
		res.OK, res.InputTokens = true, out.Usage.InputTokens
		checks["embeddings"].Result, checks["embeddings"].Message = switchyard.CheckVerified, "the embedding call returned a vector"
		return res
	}

	// The main call, streamed: latency, time to first token, tokens.
	streamErr := call(func(ctx context.Context) error {
		start := time.Now()
		s, err := a.ChatStream(ctx, &provider.ChatRequest{Model: m.UpstreamID, MaxTokens: testMaxTokens,
			Messages: []provider.Message{provider.TextMessage(provider.RoleUser, testPrompt)}})
		if err != nil {
			return err
		}
		defer s.Close()
		var text strings.Builder
		for {
			c, err := s.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			if res.TTFTMS == 0 && (c.Text != "" || len(c.ToolCalls) > 0) {
				res.TTFTMS = max(time.Since(start).Milliseconds(), 1)
			}
			text.WriteString(c.Text)
			if c.Usage != nil {
				res.InputTokens, res.OutputTokens = c.Usage.InputTokens, c.Usage.OutputTokens
			}
		}
		res.LatencyMS = max(time.Since(start).Milliseconds(), res.TTFTMS)
		if res.OutputTokens == 0 && text.Len() > 0 {
			res.OutputTokens = max(1, (text.Len()+3)/4) // the protocol reported no usage: estimate
		}
		return nil
	})
	switch {
	case streamErr == nil:
		checks["streaming"].Result, checks["streaming"].Message = switchyard.CheckVerified, "the answer was streamed"
	case refused(streamErr):
		// The stream was refused: the model may still answer without it.
		checks["streaming"].Result, checks["streaming"].Message = switchyard.CheckUnsupported, short(streamErr)
		start := time.Now()
		var out *provider.ChatResponse
		err := call(func(ctx context.Context) (err error) {
			out, err = a.Chat(ctx, &provider.ChatRequest{Model: m.UpstreamID, MaxTokens: testMaxTokens,
				Messages: []provider.Message{provider.TextMessage(provider.RoleUser, testPrompt)}})
			return err
		})
		res.LatencyMS = time.Since(start).Milliseconds()
		if err != nil {
			failTest(res, err)
			return res
		}
		res.InputTokens, res.OutputTokens = out.Usage.InputTokens, out.Usage.OutputTokens
	default:
		failTest(res, streamErr)
		for _, c := range checks {
			c.Message = "not tried: the model did not answer"
		}
		return res
	}
	res.OK = true

	// Tool calling: one tool, asked for by name.
	tools := checks["tools"]
	err := call(func(ctx context.Context) error {
		out, err := a.Chat(ctx, &provider.ChatRequest{Model: m.UpstreamID, MaxTokens: 128, Tools: []provider.Tool{testTool},
			Messages: []provider.Message{provider.TextMessage(provider.RoleUser,
				"Call the "+testToolName+" tool for the city of Paris. Do not answer in text.")}})
		if err != nil {
			return err
		}
		for _, tc := range out.Message.ToolCalls {
			if tc.Name == testToolName {
				tools.Result, tools.Message = switchyard.CheckVerified, "the model called the offered tool"
				return nil
			}
		}
		tools.Message = "the model answered without calling the offered tool"
		return nil
	})
	if err != nil {
		tools.Result, tools.Message = refusedOr(err, switchyard.CheckUnknown), short(err)
	}

	// JSON mode: json_object, and the text must parse.
	jm := checks["json_mode"]
	err = call(func(ctx context.Context) error {
		out, err := a.Chat(ctx, &provider.ChatRequest{Model: m.UpstreamID, MaxTokens: 64,
			ResponseFormat: &provider.ResponseFormat{Type: "json_object"},
			Messages: []provider.Message{provider.TextMessage(provider.RoleUser,
				`Reply with this JSON object and nothing else: {"ok": true}`)}})
		if err != nil {
			return err
		}
		if isJSONObject(out.Message.Text()) {
			jm.Result, jm.Message = switchyard.CheckVerified, "the answer is a JSON object"
		} else {
			jm.Message = "the request was accepted but the answer is not a JSON object"
		}
		return nil
	})
	if err != nil {
		jm.Result, jm.Message = refusedOr(err, switchyard.CheckUnknown), short(err)
	}

	// Vision: only for a model that declares it.
	if vis := checks["vision"]; vis.Declared {
		err = call(func(ctx context.Context) error {
			_, err := a.Chat(ctx, &provider.ChatRequest{Model: m.UpstreamID, MaxTokens: testMaxTokens,
				Messages: []provider.Message{{Role: provider.RoleUser, Content: []provider.Part{
					{Type: provider.PartText, Text: "What colour is this image? Answer in one word."},
					{Type: provider.PartImage, Image: &provider.Image{MediaType: "image/png", Data: testPNG()}},
				}}}})
			return err
		})
		if err != nil {
			vis.Result, vis.Message = refusedOr(err, switchyard.CheckUnknown), short(err)
		} else {
			vis.Result, vis.Message = switchyard.CheckVerified, "the model accepted an image"
		}
	} else {
		vis.Message = "not tried: the model does not declare vision"
	}

	// Embeddings: only for a chat model that also declares them.
	if emb := checks["embeddings"]; emb.Declared {
		err = call(func(ctx context.Context) error {
			out, err := a.Embed(ctx, &provider.EmbedRequest{Model: m.UpstreamID, Input: []string{"Switchyard model test"}})
			if err == nil && len(out.Vectors) == 1 && len(out.Vectors[0]) > 0 {
				emb.Result, emb.Message = switchyard.CheckVerified, "the embedding call returned a vector"
			}
			return err
		})
		if err != nil {
			emb.Result, emb.Message = refusedOr(err, switchyard.CheckUnknown), short(err)
		}
	} else {
		emb.Message = "not tried: the model does not declare embeddings"
	}
	return res
}

// fail records a failed main call with the stable code the connectivity
// test uses for the same failure.
func failTest(res *switchyard.TestResult, err error) {
	f := upstreamFailure(err)
	if f == nil {
		f = fail("upstream_error", "see the message", "%s", netguard.Redact(err))
	}
	res.OK, res.Code, res.Message = false, f.code, f.message
}

// refused reports whether the provider refused the request itself (as
// opposed to failing to answer it).
func refused(err error) bool {
	e, ok := provider.AsError(err)
	return ok && (e.Code == provider.CodeBadRequest || e.Code == provider.CodeUnsupported)
}

func refusedOr(err error, otherwise string) string {
	if refused(err) {
		return switchyard.CheckUnsupported
	}
	return otherwise
}

func short(err error) string {
	return provider.Truncate(netguard.Redact(err).Error(), 300)
}

func declared(m *switchyard.Model, name string) bool {
	c := m.Capabilities
	switch name {
	case "streaming":
		return c.Streaming
	case "tools":
		return c.Tools
	case "json_mode":
		return c.JSONMode
	case "vision":
		return c.Vision || slices.Contains(c.InputModalities, switchyard.ModalityImage)
	case "embeddings":
		return c.Embeddings
	}
	return false
}

// isEmbeddings reports whether the model only embeds: it declares
// embeddings and no text output.
func isEmbeddings(m *switchyard.Model) bool {
	c := m.Capabilities
	return c.Embeddings && !slices.Contains(c.OutputModalities, switchyard.ModalityText)
}

// isJSONObject reports whether s is a JSON object, allowing a Markdown code
// fence around it.
func isJSONObject(s string) bool {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "```"); ok {
		rest = strings.TrimPrefix(rest, "json")
		s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "```"))
	}
	var v map[string]any
	return json.Unmarshal([]byte(s), &v) == nil
}

// testPNG is an 8×8 red square.
func testPNG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for y := range 8 {
		for x := range 8 {
			img.Set(x, y, color.RGBA{R: 220, A: 255})
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// Describe is an error's message with any credential in it redacted, for
// answers and logs.
func Describe(err error) string { return netguard.Redact(err).Error() }
