package fake

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// DefaultBedrockModels are served when BedrockConfig.Models is empty.
var DefaultBedrockModels = []string{
	"anthropic.claude-3-5-haiku-20241022-v1:0",
	"anthropic.claude-sonnet-4-5-20250929-v1:0",
	"amazon.nova-lite-v1:0",
	"amazon.titan-embed-text-v2:0",
}

// BedrockSigningName is the SigV4 service name of both Bedrock hosts
// (bedrock-runtime and the bedrock control plane).
const BedrockSigningName = "bedrock"

// BedrockMaxSkew is how far X-Amz-Date may be from the fake's clock, as AWS
// allows.
const BedrockMaxSkew = 5 * time.Minute

// BedrockConfig configures a Bedrock fake.
type BedrockConfig struct {
	// AccessKeys maps access key ids to secret access keys. Requests must be
	// signed with AWS Signature Version 4 by one of them. Empty accepts any
	// well-formed signature without checking it (for demos).
	AccessKeys map[string]string
	// Region is the region the credential scope must name (default
	// "us-east-1").
	Region string
	// Models are the model ids served; DefaultBedrockModels when empty.
	// "arn:aws:bedrock:{region}::foundation-model/{id}" is accepted for each.
	Models []string
	Options
}

// StreamException is an exception message sent in a ConverseStream answer
// after After events, the way Bedrock reports throttling or a model error
// once the stream has begun. The stream ends after it.
type StreamException struct {
	After int
	// Type is the event stream member: "throttlingException",
	// "modelStreamErrorException", "internalServerException",
	// "validationException", "serviceUnavailableException".
	Type    string
	Message string
}

// Bedrock is a fake of Amazon Bedrock: the runtime's Converse (JSON) and
// ConverseStream (application/vnd.amazon.eventstream) on
// /model/{modelId}/converse[-stream], and the control plane's
// ListFoundationModels on /foundation-models (on the same host here). Every
// request must carry a valid SigV4 signature for service "bedrock".
//
// Besides the shared faults, a malformed fault on a stream sends event
// number After with a bad message CRC, and QueueStreamException sends an
// exception event mid-stream.
type Bedrock struct {
	*core
	cfg BedrockConfig

	mu         sync.Mutex
	exceptions []StreamException
}

// NewBedrock returns a Bedrock fake.
func NewBedrock(cfg BedrockConfig) *Bedrock {
	if len(cfg.Models) == 0 {
		cfg.Models = DefaultBedrockModels
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	b := &Bedrock{core: newCore(cfg.Options, writeBedrockError), cfg: cfg}
	b.handle("POST /model/{modelId}/converse", func(x *exchange) { b.converse(x, false) })
	b.handle("POST /model/{modelId}/converse-stream", func(x *exchange) { b.converse(x, true) })
	b.handle("GET /foundation-models", b.foundationModels)
	return b
}

// QueueStreamException makes the next ConverseStream answers end with
// these exceptions, one per stream.
func (b *Bedrock) QueueStreamException(e ...StreamException) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.exceptions = append(b.exceptions, e...)
}

func (b *Bedrock) nextException() (StreamException, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.exceptions) == 0 {
		return StreamException{}, false
	}
	e := b.exceptions[0]
	b.exceptions = b.exceptions[1:]
	return e, true
}

// Error types of the SigV4 check, as AWS names them.
const (
	bedrockMissingToken  = "MissingAuthenticationTokenException"
	bedrockIncomplete    = "IncompleteSignatureException"
	bedrockInvalidSig    = "InvalidSignatureException"
	bedrockUnrecognized  = "UnrecognizedClientException"
	bedrockSigMismatch   = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	bedrockInvalidToken  = "The security token included in the request is invalid."
	bedrockAmzDateLayout = "20060102T150405Z"
)

// auth verifies the request's SigV4 signature the way AWS does: it parses
// the Authorization header, looks up the secret of the access key id,
// checks the credential scope (date, region, service "bedrock") and the
// clock skew, then signs a copy of the request with the SDK's signer, the
// same X-Amz-Date and the signed headers alone, and compares signatures.
func (b *Bedrock) auth(x *exchange) bool {
	r := x.r
	deny := func(code, msg string) bool {
		x.fail(apiError{Status: http.StatusForbidden, Kind: errPermission, Code: code, Message: msg})
		return false
	}
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return deny(bedrockMissingToken, "Missing Authentication Token")
	}
	algo, rest, _ := strings.Cut(authz, " ")
	if algo != "AWS4-HMAC-SHA256" {
		return deny(bedrockIncomplete, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization="+algo)
	}
	fields := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		fields[k] = v
	}
	cred, signedHeaders, sig := fields["Credential"], fields["SignedHeaders"], fields["Signature"]
	if cred == "" || signedHeaders == "" || sig == "" {
		return deny(bedrockIncomplete, "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. Authorization="+authz[:min(len(authz), 40)])
	}
	scope := strings.Split(cred, "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return deny(bedrockIncomplete, "Credential should be scoped to a valid region, service and aws4_request terminator.")
	}
	keyID, day, region, service := scope[0], scope[1], scope[2], scope[3]
	secret, known := b.cfg.AccessKeys[keyID]
	if !known && len(b.cfg.AccessKeys) > 0 {
		return deny(bedrockUnrecognized, bedrockInvalidToken)
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse(bedrockAmzDateLayout, amzDate)
	if err != nil {
		return deny(bedrockIncomplete, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if day != t.Format("20060102") {
		return deny(bedrockInvalidSig, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '"+day+"' != '"+t.Format("20060102")+"', from '"+amzDate+"'.")
	}
	if region != b.cfg.Region {
		return deny(bedrockInvalidSig, "Credential should be scoped to a valid region. ")
	}
	if service != BedrockSigningName {
		return deny(bedrockInvalidSig, "Credential should be scoped to correct service: '"+BedrockSigningName+"'. ")
	}
	now := x.now().UTC()
	if d := now.Sub(t); d > BedrockMaxSkew || d < -BedrockMaxSkew {
		return deny(bedrockInvalidSig, fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 5 min.)",
			amzDate, now.Add(-BedrockMaxSkew).Format(bedrockAmzDateLayout), now.Format(bedrockAmzDateLayout)))
	}
	if len(b.cfg.AccessKeys) == 0 {
		return true
	}
	want, err := resign(r, x.body, aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret,
		SessionToken: r.Header.Get("X-Amz-Security-Token")}, signedHeaders, region, t)
	if err != nil || !hmac.Equal([]byte(want), []byte(sig)) {
		return deny(bedrockInvalidSig, bedrockSigMismatch)
	}
	return true
}

// resign signs a copy of r that carries only the headers named in
// signedHeaders and returns the signature.
func resign(r *http.Request, body []byte, creds aws.Credentials, signedHeaders, region string, t time.Time) (string, error) {
	u := *r.URL
	u.Scheme, u.Host = "https", r.Host
	clone, err := http.NewRequestWithContext(context.Background(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	clone.URL = &u // keep RawPath exactly as received
	clone.Host = r.Host
	clone.ContentLength = 0
	for name := range strings.SplitSeq(signedHeaders, ";") {
		switch name {
		case "host":
		case "content-length":
			clone.ContentLength = r.ContentLength
		default:
			if vs, ok := r.Header[http.CanonicalHeaderKey(name)]; ok {
				clone.Header[http.CanonicalHeaderKey(name)] = vs
			}
		}
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, clone, hex.EncodeToString(sum[:]), BedrockSigningName, region, t); err != nil {
		return "", err
	}
	_, sig, _ := strings.Cut(clone.Header.Get("Authorization"), "Signature=")
	return sig, nil
}

// modelID resolves the path's model id: a served id, or its foundation
// model ARN in the fake's region.
func (b *Bedrock) modelID(raw string) (string, bool) {
	id := raw
	if rest, ok := strings.CutPrefix(raw, "arn:aws:bedrock:"+b.cfg.Region+"::foundation-model/"); ok {
		id = rest
	}
	return id, slices.Contains(b.cfg.Models, id)
}

// bedrockBlock is a Converse content block: exactly one member is set.
type bedrockBlock struct {
	Text  *string `json:"text,omitempty"`
	Image *struct {
		Format string `json:"format"`
		Source struct {
			Bytes []byte `json:"bytes"`
		} `json:"source"`
	} `json:"image,omitempty"`
	ToolUse *struct {
		ToolUseID string          `json:"toolUseId"`
		Name      string          `json:"name"`
		Input     json.RawMessage `json:"input"`
	} `json:"toolUse,omitempty"`
	ToolResult *struct {
		ToolUseID string `json:"toolUseId"`
		Content   []struct {
			Text *string         `json:"text"`
			JSON json.RawMessage `json:"json"`
		} `json:"content"`
		Status string `json:"status"`
	} `json:"toolResult,omitempty"`
}

func (bl bedrockBlock) members() int {
	n := 0
	for _, set := range []bool{bl.Text != nil, bl.Image != nil, bl.ToolUse != nil, bl.ToolResult != nil} {
		if set {
			n++
		}
	}
	return n
}

type bedrockRequest struct {
	Messages []struct {
		Role    string         `json:"role"`
		Content []bedrockBlock `json:"content"`
	} `json:"messages"`
	System []struct {
		Text string `json:"text"`
	} `json:"system"`
	InferenceConfig *struct {
		MaxTokens     *int     `json:"maxTokens"`
		Temperature   *float64 `json:"temperature"`
		TopP          *float64 `json:"topP"`
		StopSequences []string `json:"stopSequences"`
	} `json:"inferenceConfig"`
	ToolConfig *struct {
		Tools []struct {
			ToolSpec *struct {
				Name        string `json:"name"`
				Description string `json:"description"`
				InputSchema struct {
					JSON json.RawMessage `json:"json"`
				} `json:"inputSchema"`
			} `json:"toolSpec"`
		} `json:"tools"`
		ToolChoice *struct {
			Auto *struct{} `json:"auto"`
			Any  *struct{} `json:"any"`
			Tool *struct {
				Name string `json:"name"`
			} `json:"tool"`
		} `json:"toolChoice"`
	} `json:"toolConfig"`
}

// validate checks what Bedrock checks before calling the model, with its
// messages.
func (req *bedrockRequest) validate() string {
	if len(req.Messages) == 0 {
		return "A conversation must start with a user message. Try again with a conversation that starts with a user message."
	}
	usesTools := false
	var lastToolUses []string
	for i, m := range req.Messages {
		want := "user"
		if i%2 == 1 {
			want = "assistant"
		}
		if m.Role != "user" && m.Role != "assistant" {
			return fmt.Sprintf("1 validation error detected: Value '%s' at 'messages.%d.member.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant]", m.Role, i+1)
		}
		if m.Role != want {
			if i == 0 {
				return "A conversation must start with a user message. Try again with a conversation that starts with a user message."
			}
			return "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again."
		}
		if len(m.Content) == 0 {
			return fmt.Sprintf("The content field in the Message object at messages.%d is empty. Add a ContentBlock object to the content field and try again.", i)
		}
		var uses, results []string
		for j, bl := range m.Content {
			if bl.members() != 1 {
				return fmt.Sprintf("The content block at messages.%d.content.%d must set exactly one member.", i, j)
			}
			switch {
			case bl.Image != nil:
				if !slices.Contains([]string{"png", "jpeg", "gif", "webp"}, bl.Image.Format) {
					return fmt.Sprintf("1 validation error detected: Value '%s' at 'messages.%d.member.content.%d.member.image.format' failed to satisfy constraint: Member must satisfy enum value set: [gif, jpeg, png, webp]", bl.Image.Format, i+1, j+1)
				}
				if len(bl.Image.Source.Bytes) == 0 {
					return "The image at messages." + fmt.Sprint(i) + " has no bytes."
				}
			case bl.ToolUse != nil:
				usesTools = true
				if m.Role != "assistant" {
					return "toolUse blocks are only allowed in assistant messages."
				}
				uses = append(uses, bl.ToolUse.ToolUseID)
			case bl.ToolResult != nil:
				usesTools = true
				results = append(results, bl.ToolResult.ToolUseID)
			}
		}
		if len(results) > 0 {
			if len(results) > len(lastToolUses) {
				return fmt.Sprintf("The number of toolResult blocks at messages.%d.content exceeds the number of toolUse blocks of previous turn.", i)
			}
			for _, id := range results {
				if !slices.Contains(lastToolUses, id) {
					return fmt.Sprintf("The toolUseId %s in messages.%d does not match any toolUse block of the previous turn.", id, i)
				}
			}
		}
		lastToolUses = uses
	}
	if usesTools && (req.ToolConfig == nil || len(req.ToolConfig.Tools) == 0) {
		return "The toolConfig field must be defined when using toolUse and toolResult content blocks."
	}
	if tc := req.ToolConfig; tc != nil {
		for _, t := range tc.Tools {
			if t.ToolSpec == nil || t.ToolSpec.Name == "" || len(t.ToolSpec.InputSchema.JSON) == 0 {
				return "The json schema definition at toolConfig.tools is invalid."
			}
		}
	}
	if ic := req.InferenceConfig; ic != nil && ic.MaxTokens != nil && *ic.MaxTokens < 1 {
		return "1 validation error detected: Value '" + fmt.Sprint(*ic.MaxTokens) + "' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1"
	}
	return ""
}

// inputTokens counts the prompt: system, messages and tool definitions.
func (req *bedrockRequest) inputTokens() int {
	n := 0
	for _, s := range req.System {
		n += Tokens(s.Text)
	}
	for _, m := range req.Messages {
		n += messageOverhead
		for _, bl := range m.Content {
			switch {
			case bl.Text != nil:
				n += Tokens(*bl.Text)
			case bl.Image != nil:
				n += 85
			case bl.ToolUse != nil:
				n += Tokens(bl.ToolUse.Name) + Tokens(string(bl.ToolUse.Input))
			case bl.ToolResult != nil:
				n += Tokens(toolResultContent(bl))
			}
		}
	}
	if tc := req.ToolConfig; tc != nil {
		for _, t := range tc.Tools {
			if t.ToolSpec != nil {
				n += Tokens(t.ToolSpec.Name) + Tokens(string(t.ToolSpec.InputSchema.JSON))
			}
		}
	}
	return n + 3
}

func toolResultContent(bl bedrockBlock) string {
	var parts []string
	for _, c := range bl.ToolResult.Content {
		if c.Text != nil {
			parts = append(parts, *c.Text)
		} else if len(c.JSON) > 0 {
			parts = append(parts, string(c.JSON))
		}
	}
	return strings.Join(parts, " ")
}

func (b *Bedrock) converse(x *exchange, streaming bool) {
	if x.injectStatus() || !b.auth(x) {
		return
	}
	model, ok := b.modelID(x.r.PathValue("modelId"))
	if !ok {
		x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: "The provided model identifier is invalid."})
		return
	}
	var req bedrockRequest
	if err := json.Unmarshal(x.body, &req); err != nil {
		x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: "Malformed input request: " + err.Error() + ", please reformat your input and try again."})
		return
	}
	if msg := req.validate(); msg != "" {
		x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: msg})
		return
	}
	if strings.Contains(model, "embed") {
		x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: "This action doesn't support the model that you provided. Try again with a supported text or chat model."})
		return
	}

	last := req.Messages[len(req.Messages)-1]
	var prompt string
	afterTool := false
	for _, bl := range last.Content {
		switch {
		case bl.Text != nil:
			prompt += *bl.Text + " "
		case bl.ToolResult != nil:
			afterTool = true
			prompt += toolResultContent(bl) + " "
		}
	}
	var tools []toolSpec
	forced, required := "", false
	if tc := req.ToolConfig; tc != nil {
		for _, t := range tc.Tools {
			tools = append(tools, toolSpec{Name: t.ToolSpec.Name, Schema: t.ToolSpec.InputSchema.JSON})
		}
		if c := tc.ToolChoice; c != nil {
			switch {
			case c.Any != nil:
				required = true
			case c.Tool != nil:
				forced = c.Tool.Name
			}
		}
	}
	tool, useTool := pickTool(tools, forced, required, prompt, afterTool)

	text := replyText(prompt)
	if afterTool {
		text = toolResultText(prompt)
	}
	stop := "end_turn"
	var args, toolID string
	if useTool {
		args = toolArguments(tool.Schema)
		toolID = x.id("tooluse_")
		text = "I'll use the " + tool.Name + " tool."
		stop = "tool_use"
	} else {
		maxTokens := 0
		if ic := req.InferenceConfig; ic != nil {
			if ic.MaxTokens != nil {
				maxTokens = *ic.MaxTokens
			}
			for _, s := range ic.StopSequences {
				if i := strings.Index(text, s); s != "" && i >= 0 {
					text, stop = strings.TrimSpace(text[:i]), "stop_sequence"
				}
			}
		}
		var cut bool
		if text, cut = truncate(text, maxTokens); cut {
			stop = "max_tokens"
		}
	}
	input, output := req.inputTokens(), Tokens(text)
	if useTool {
		output += Tokens(tool.Name) + Tokens(args)
	}
	usage := map[string]any{"inputTokens": input, "outputTokens": output, "totalTokens": input + output,
		"cacheReadInputTokens": 0, "cacheWriteInputTokens": 0}
	x.w.Header().Set("x-amzn-RequestId", requestID(x))

	if !streaming {
		content := []map[string]any{{"text": text}}
		if useTool {
			content = append(content, map[string]any{"toolUse": map[string]any{"toolUseId": toolID, "name": tool.Name, "input": json.RawMessage(args)}})
		}
		x.reply(map[string]any{
			"output":     map[string]any{"message": map[string]any{"role": "assistant", "content": content}},
			"stopReason": stop, "usage": usage, "metrics": map[string]any{"latencyMs": 42},
		})
		return
	}

	s := b.eventStream(x)
	s.event("messageStart", map[string]any{"role": "assistant"})
	for _, piece := range chunks(text) {
		s.event("contentBlockDelta", map[string]any{"contentBlockIndex": 0, "delta": map[string]any{"text": piece}})
	}
	s.event("contentBlockStop", map[string]any{"contentBlockIndex": 0})
	if useTool {
		s.event("contentBlockStart", map[string]any{"contentBlockIndex": 1,
			"start": map[string]any{"toolUse": map[string]any{"toolUseId": toolID, "name": tool.Name}}})
		half := len(args) / 2
		for _, part := range []string{args[:half], args[half:]} {
			s.event("contentBlockDelta", map[string]any{"contentBlockIndex": 1, "delta": map[string]any{"toolUse": map[string]any{"input": part}}})
		}
		s.event("contentBlockStop", map[string]any{"contentBlockIndex": 1})
	}
	s.event("messageStop", map[string]any{"stopReason": stop})
	s.event("metadata", map[string]any{"usage": usage, "metrics": map[string]any{"latencyMs": 42}})
}

func requestID(x *exchange) string {
	n := x.c.seq.Add(1)
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", n>>48, n&0xffffffffffff)
}

// eventStreamWriter writes application/vnd.amazon.eventstream messages and
// applies the exchange's stream faults: cut and stall as the shared
// pipeline does, malformed as a message with a bad CRC, and a queued
// StreamException.
type eventStreamWriter struct {
	x   *exchange
	rc  *http.ResponseController
	n   int
	exc *StreamException
}

func (b *Bedrock) eventStream(x *exchange) *eventStreamWriter {
	h := x.w.Header()
	h.Set("Content-Type", "application/vnd.amazon.eventstream")
	h.Set("x-amzn-bedrock-content-type", "application/json")
	x.w.WriteHeader(http.StatusOK)
	s := &eventStreamWriter{x: x, rc: http.NewResponseController(x.w)}
	if e, ok := b.nextException(); ok {
		s.exc = &e
	}
	_ = s.rc.Flush()
	return s
}

// event sends one event; its payload carries the "p" padding field that
// Bedrock adds against length side channels.
func (s *eventStreamWriter) event(name string, v map[string]any) {
	x := s.x
	if d := x.c.opts.ChunkDelay; d > 0 && !sleep(x.r.Context(), d) {
		panic(http.ErrAbortHandler)
	}
	if s.exc != nil && s.n == s.exc.After {
		payload, _ := json.Marshal(map[string]any{"message": s.exc.Message})
		s.write(EncodeEventStreamMessage([][2]string{
			{":exception-type", s.exc.Type}, {":content-type", "application/json"}, {":message-type", "exception"},
		}, payload))
		panic(http.ErrAbortHandler)
	}
	v["p"] = strings.Repeat("abcdefghijklmnopqrstuvwxyz", 2)[:s.n%26+4]
	payload, _ := json.Marshal(v)
	frame := EncodeEventStreamMessage([][2]string{
		{":event-type", name}, {":content-type", "application/json"}, {":message-type", "event"},
	}, payload)
	if s.n == x.fault.After {
		switch x.fault.Kind {
		case FaultCut:
			panic(http.ErrAbortHandler)
		case FaultStall:
			sleep(x.r.Context(), x.c.opts.StallLimit)
			panic(http.ErrAbortHandler)
		case FaultMalformed:
			frame[len(frame)-1] ^= 0xff
		}
	}
	s.n++
	s.write(frame)
}

func (s *eventStreamWriter) write(frame []byte) {
	if _, err := s.x.w.Write(frame); err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = s.rc.Flush()
}

// EncodeEventStreamMessage frames one event stream message: the prelude
// (total length, headers length, prelude CRC32), string-typed headers, the
// payload and the message CRC32 (IEEE, over everything before it).
func EncodeEventStreamMessage(headers [][2]string, payload []byte) []byte {
	var hb []byte
	for _, h := range headers {
		hb = append(hb, byte(len(h[0])))
		hb = append(hb, h[0]...)
		hb = append(hb, 7) // string
		hb = binary.BigEndian.AppendUint16(hb, uint16(len(h[1])))
		hb = append(hb, h[1]...)
	}
	total := 12 + len(hb) + len(payload) + 4
	buf := make([]byte, 0, total)
	buf = binary.BigEndian.AppendUint32(buf, uint32(total))
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(hb)))
	buf = binary.BigEndian.AppendUint32(buf, crc32.ChecksumIEEE(buf))
	buf = append(buf, hb...)
	buf = append(buf, payload...)
	return binary.BigEndian.AppendUint32(buf, crc32.ChecksumIEEE(buf))
}

// foundationModels answers ListFoundationModels, with its byProvider,
// byOutputModality and byInferenceType filters.
func (b *Bedrock) foundationModels(x *exchange) {
	if x.injectStatus() || !b.auth(x) {
		return
	}
	q := x.r.URL.Query()
	summaries := []map[string]any{}
	for _, id := range b.cfg.Models {
		prov, _, _ := strings.Cut(id, ".")
		output := "TEXT"
		input := []string{"TEXT"}
		if strings.Contains(id, "embed") {
			output = "EMBEDDING"
		} else if !strings.HasPrefix(id, "amazon.titan") {
			input = append(input, "IMAGE")
		}
		name := map[string]string{"anthropic": "Anthropic", "amazon": "Amazon", "meta": "Meta", "mistral": "Mistral AI", "cohere": "Cohere"}[prov]
		if name == "" {
			name = prov
		}
		if p := q.Get("byProvider"); p != "" && !strings.EqualFold(p, name) && !strings.EqualFold(p, prov) {
			continue
		}
		if m := q.Get("byOutputModality"); m != "" && m != output {
			continue
		}
		if it := q.Get("byInferenceType"); it != "" && it != "ON_DEMAND" {
			continue
		}
		summaries = append(summaries, map[string]any{
			"modelArn":                   "arn:aws:bedrock:" + b.cfg.Region + "::foundation-model/" + id,
			"modelId":                    id,
			"modelName":                  modelName(id),
			"providerName":               name,
			"inputModalities":            input,
			"outputModalities":           []string{output},
			"responseStreamingSupported": output == "TEXT",
			"customizationsSupported":    []string{},
			"inferenceTypesSupported":    []string{"ON_DEMAND"},
			"modelLifecycle":             map[string]any{"status": "ACTIVE"},
		})
	}
	x.w.Header().Set("x-amzn-RequestId", requestID(x))
	x.reply(map[string]any{"modelSummaries": summaries})
}

// modelName turns "anthropic.claude-3-5-haiku-20241022-v1:0" into
// "Claude 3 5 Haiku 20241022 V1".
func modelName(id string) string {
	_, name, _ := strings.Cut(id, ".")
	name, _, _ = strings.Cut(name, ":")
	words := strings.Split(name, "-")
	for i, w := range words {
		if w != "" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

// writeBedrockError writes an AWS REST-JSON error: the type in
// x-amzn-ErrorType (with the namespace suffix AWS adds) and
// {"message": …} in the body.
func writeBedrockError(w http.ResponseWriter, e apiError) {
	typ := e.Code
	if typ == "" {
		typ = map[errKind]string{
			errInvalid: "ValidationException", errAuth: bedrockUnrecognized, errPermission: "AccessDeniedException",
			errNotFound: "ResourceNotFoundException", errModelNotFound: "ResourceNotFoundException",
			errTooLarge: "ValidationException", errRateLimit: "ThrottlingException",
			errServer: "InternalServerException", errOverloaded: "ServiceUnavailableException",
		}[e.Kind]
		switch e.Status {
		case http.StatusRequestTimeout:
			typ = "ModelTimeoutException"
		case http.StatusFailedDependency:
			typ = "ModelErrorException"
		}
	}
	ns := "com.amazon.bedrock"
	if strings.HasSuffix(typ, "SignatureException") || typ == bedrockUnrecognized || typ == bedrockMissingToken {
		ns = "com.amazon.coral.service"
	}
	w.Header().Set("x-amzn-ErrorType", typ+":http://internal.amazon.com/coral/"+ns+"/")
	w.Header().Set("x-amzn-RequestId", "00000000-0000-4000-8000-000000000000")
	writeJSON(w, e.Status, map[string]any{"message": e.Message})
}

// BedrockModelPath is the escaped path of a runtime operation on a model
// ("converse" or "converse-stream"), as the SDK escapes it: every byte but
// the unreserved ones, so ARNs and ":" survive.
func BedrockModelPath(modelID, op string) string {
	var b strings.Builder
	for _, c := range []byte(modelID) {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return "/model/" + b.String() + "/" + op
}
