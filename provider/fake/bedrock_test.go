package fake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

const (
	awsKeyID  = "AKIAFAKE0000EXAMPLE"
	awsSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYFAKEKEY"
	haiku     = "anthropic.claude-3-5-haiku-20241022-v1:0"
)

func newBedrock(opts Options) *Bedrock {
	return NewBedrock(BedrockConfig{AccessKeys: map[string]string{awsKeyID: awsSecret}, Region: "us-west-2", Options: opts})
}

// bedrockSDK is the AWS SDK's bedrockruntime client pointed at the fake,
// with retries off so that faults surface.
func bedrockSDK(t *testing.T, b *Bedrock, keyID, secret, region string) *bedrockruntime.Client {
	t.Helper()
	srv := serve(t, b)
	return bedrockruntime.New(bedrockruntime.Options{
		Region:       region,
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		Retryer:      aws.NopRetryer{},
	})
}

func userText(s string) types.Message {
	return types.Message{Role: types.ConversationRoleUser, Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: s}}}
}

func weatherTool() *types.ToolConfiguration {
	return &types.ToolConfiguration{Tools: []types.Tool{&types.ToolMemberToolSpec{Value: types.ToolSpecification{
		Name:        aws.String("get_weather"),
		Description: aws.String("Weather of a city"),
		InputSchema: &types.ToolInputSchemaMemberJson{Value: document.NewLazyDocument(map[string]any{
			"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []string{"city"},
		})},
	}}}}
}

func TestBedrockSDKConverse(t *testing.T) {
	b := newBedrock(Options{})
	client := bedrockSDK(t, b, awsKeyID, awsSecret, "us-west-2")
	ctx := context.Background()
	out, err := client.Converse(ctx, &bedrockruntime.ConverseInput{
		ModelId:         aws.String(haiku),
		System:          []types.SystemContentBlock{&types.SystemContentBlockMemberText{Value: "Be brief."}},
		Messages:        []types.Message{userText("What is the capital of France?")},
		InferenceConfig: &types.InferenceConfiguration{MaxTokens: aws.Int32(100), Temperature: aws.Float32(0.2)},
	})
	if err != nil {
		t.Fatal(err)
	}
	msg := out.Output.(*types.ConverseOutputMemberMessage).Value
	if text := msg.Content[0].(*types.ContentBlockMemberText).Value; text != "You said: What is the capital of France?" {
		t.Errorf("text %q", text)
	}
	if out.StopReason != types.StopReasonEndTurn || *out.Usage.OutputTokens != int32(Tokens("You said: What is the capital of France?")) ||
		*out.Usage.TotalTokens != *out.Usage.InputTokens+*out.Usage.OutputTokens {
		t.Errorf("stop %s usage %+v", out.StopReason, out.Usage)
	}
	last, _ := b.LastRequest()
	// The SDK escapes ":" in the model id.
	if last.Path != "/model/"+haiku+"/converse" || !strings.HasPrefix(last.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential="+awsKeyID+"/") {
		t.Errorf("path %s, authorization %s", last.Path, last.Header.Get("Authorization"))
	}

	// A foundation model ARN (with "/" and ":") names the same model.
	arn := "arn:aws:bedrock:us-west-2::foundation-model/" + haiku
	if _, err := client.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(arn), Messages: []types.Message{userText("hi")}}); err != nil {
		t.Errorf("ARN: %v", err)
	}
	// Stop sequences and max tokens.
	out, err = client.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(haiku), Messages: []types.Message{userText("one two three four five six")},
		InferenceConfig: &types.InferenceConfiguration{StopSequences: []string{"four"}}})
	if err != nil || out.StopReason != types.StopReasonStopSequence {
		t.Errorf("stop sequence: %v %+v", err, out)
	}
	out, err = client.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(haiku), Messages: []types.Message{userText("one two three four five six")},
		InferenceConfig: &types.InferenceConfiguration{MaxTokens: aws.Int32(2)}})
	if err != nil || out.StopReason != types.StopReasonMaxTokens || *out.Usage.OutputTokens > 2 {
		t.Errorf("max tokens: %v %+v", err, out)
	}

	// Tool use, then the tool's result.
	out, err = client.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(haiku), ToolConfig: weatherTool(),
		Messages: []types.Message{userText("Use get_weather for Paris")}})
	if err != nil || out.StopReason != types.StopReasonToolUse {
		t.Fatalf("tool: %v %+v", err, out)
	}
	reply := out.Output.(*types.ConverseOutputMemberMessage).Value
	use := reply.Content[1].(*types.ContentBlockMemberToolUse).Value
	var args map[string]any
	if err := use.Input.UnmarshalSmithyDocument(&args); err != nil || *use.Name != "get_weather" || args["city"] != "fake" {
		t.Errorf("tool use %+v %v %v", use, args, err)
	}
	out, err = client.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(haiku), ToolConfig: weatherTool(),
		Messages: []types.Message{userText("Use get_weather for Paris"), reply, {Role: types.ConversationRoleUser, Content: []types.ContentBlock{
			&types.ContentBlockMemberToolResult{Value: types.ToolResultBlock{ToolUseId: use.ToolUseId,
				Content: []types.ToolResultContentBlock{&types.ToolResultContentBlockMemberText{Value: "sunny, 21 C"}}}},
		}}}})
	if err != nil || out.StopReason != types.StopReasonEndTurn ||
		out.Output.(*types.ConverseOutputMemberMessage).Value.Content[0].(*types.ContentBlockMemberText).Value != "The tool returned: sunny, 21 C" {
		t.Errorf("tool result: %v %+v", err, out)
	}

	// Validation as Bedrock does it.
	_, err = client.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(haiku), Messages: []types.Message{
		{Role: types.ConversationRoleAssistant, Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: "hi"}}}}})
	assertAPIError(t, err, 400, "ValidationException", "must start with a user message")
	_, err = client.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String("nope.model-v1:0"), Messages: []types.Message{userText("hi")}})
	assertAPIError(t, err, 400, "ValidationException", "model identifier is invalid")
}

func assertAPIError(t *testing.T, err error, status int, code, msgPart string) {
	t.Helper()
	var api smithy.APIError
	var re *smithyhttp.ResponseError
	if !errors.As(err, &api) || !errors.As(err, &re) {
		t.Fatalf("error %v is not an API error", err)
	}
	if re.HTTPStatusCode() != status || api.ErrorCode() != code || !strings.Contains(api.ErrorMessage(), msgPart) {
		t.Errorf("got %d %s %q; want %d %s ~%q", re.HTTPStatusCode(), api.ErrorCode(), api.ErrorMessage(), status, code, msgPart)
	}
}

// collect reads a ConverseStream to its end.
func collect(out *bedrockruntime.ConverseStreamOutput) (text, toolName, toolInput string, stop types.StopReason, usage *types.TokenUsage, err error) {
	stream := out.GetStream()
	defer stream.Close()
	for ev := range stream.Events() {
		switch v := ev.(type) {
		case *types.ConverseStreamOutputMemberContentBlockStart:
			if tu, ok := v.Value.Start.(*types.ContentBlockStartMemberToolUse); ok {
				toolName = *tu.Value.Name
			}
		case *types.ConverseStreamOutputMemberContentBlockDelta:
			switch d := v.Value.Delta.(type) {
			case *types.ContentBlockDeltaMemberText:
				text += d.Value
			case *types.ContentBlockDeltaMemberToolUse:
				toolInput += *d.Value.Input
			}
		case *types.ConverseStreamOutputMemberMessageStop:
			stop = v.Value.StopReason
		case *types.ConverseStreamOutputMemberMetadata:
			usage = v.Value.Usage
		}
	}
	return text, toolName, toolInput, stop, usage, stream.Err()
}

func TestBedrockSDKConverseStream(t *testing.T) {
	b := newBedrock(Options{})
	client := bedrockSDK(t, b, awsKeyID, awsSecret, "us-west-2")
	ctx := context.Background()
	out, err := client.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: aws.String(haiku),
		Messages: []types.Message{userText("Tell me about streams")}})
	if err != nil {
		t.Fatal(err)
	}
	text, _, _, stop, usage, err := collect(out)
	if err != nil || text != "You said: Tell me about streams" || stop != types.StopReasonEndTurn || usage == nil || *usage.OutputTokens == 0 {
		t.Errorf("stream: %v %q %s %+v", err, text, stop, usage)
	}
	if last, _ := b.LastRequest(); last.Path != "/model/"+haiku+"/converse-stream" {
		t.Errorf("path %s", last.Path)
	}

	out, err = client.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: aws.String(haiku), ToolConfig: weatherTool(),
		Messages: []types.Message{userText("What is the weather in Paris?")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, stop, _, err := collect(out); err != nil || stop != types.StopReasonEndTurn {
		t.Errorf("tool offered, not named: %v %s", err, stop)
	}
	out, err = client.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: aws.String(haiku), ToolConfig: &types.ToolConfiguration{
		Tools: weatherTool().Tools, ToolChoice: &types.ToolChoiceMemberAny{}}, Messages: []types.Message{userText("Paris?")}})
	if err != nil {
		t.Fatal(err)
	}
	_, name, input, stop, _, err := collect(out)
	if err != nil || name != "get_weather" || input != `{"city":"fake"}` || stop != types.StopReasonToolUse {
		t.Errorf("tool stream: %v %q %q %s", err, name, input, stop)
	}
}

func TestBedrockSignature(t *testing.T) {
	ctx := context.Background()
	in := &bedrockruntime.ConverseInput{ModelId: aws.String(haiku), Messages: []types.Message{userText("hi")}}

	b := newBedrock(Options{})
	_, err := bedrockSDK(t, b, awsKeyID, "wrong-secret", "us-west-2").Converse(ctx, in)
	assertAPIError(t, err, 403, "InvalidSignatureException", "signature we calculated does not match")
	_, err = bedrockSDK(t, b, "AKIAUNKNOWN", awsSecret, "us-west-2").Converse(ctx, in)
	assertAPIError(t, err, 403, "UnrecognizedClientException", "security token included in the request is invalid")
	_, err = bedrockSDK(t, b, awsKeyID, awsSecret, "eu-west-1").Converse(ctx, in)
	assertAPIError(t, err, 403, "InvalidSignatureException", "valid region")

	// A clock ten minutes ahead of the signer's.
	late := newBedrock(Options{Now: func() time.Time { return time.Now().Add(10 * time.Minute) }})
	_, err = bedrockSDK(t, late, awsKeyID, awsSecret, "us-west-2").Converse(ctx, in)
	assertAPIError(t, err, 403, "InvalidSignatureException", "Signature expired")

	// A body changed after signing.
	srv := serve(t, b)
	req := signedRequest(t, http.MethodPost, srv.URL+BedrockModelPath(haiku, "converse"), `{"messages":[{"role":"user","content":[{"text":"hi"}]}]}`, "bedrock", "us-west-2")
	req.Body = io.NopCloser(strings.NewReader(`{"messages":[{"role":"user","content":[{"text":"ho"}]}]}`))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 403 || !strings.HasPrefix(res.Header.Get("x-amzn-ErrorType"), "InvalidSignatureException:") {
		t.Errorf("tampered body: %d %s", res.StatusCode, res.Header.Get("x-amzn-ErrorType"))
	}
	// The wrong service in the scope; no signature at all.
	req = signedRequest(t, http.MethodGet, srv.URL+"/foundation-models", "", "s3", "us-west-2")
	if code, h, body := do(t, req); code != 403 || !strings.Contains(string(body), "correct service") || !strings.HasPrefix(h.Get("x-amzn-ErrorType"), "InvalidSignatureException") {
		t.Errorf("service: %d %s", code, body)
	}
	code, h, _ := call(t, http.MethodGet, srv.URL+"/foundation-models", nil, "")
	if code != 403 || !strings.HasPrefix(h.Get("x-amzn-ErrorType"), "MissingAuthenticationTokenException") {
		t.Errorf("unsigned: %d %v", code, h)
	}
}

// signedRequest signs a raw request with the SDK's signer.
func signedRequest(t *testing.T, method, url, body, service, region string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	sum := sha256.Sum256([]byte(body))
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: awsKeyID, SecretAccessKey: awsSecret}, req,
		hex.EncodeToString(sum[:]), service, region, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func do(t *testing.T, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, body
}

func TestBedrockFoundationModels(t *testing.T) {
	b := newBedrock(Options{})
	srv := serve(t, b)
	code, _, body := do(t, signedRequest(t, http.MethodGet, srv.URL+"/foundation-models", "", "bedrock", "us-west-2"))
	summaries, _ := field(t, body, "modelSummaries").([]any)
	if code != 200 || len(summaries) != len(DefaultBedrockModels) {
		t.Fatalf("%d %s", code, body)
	}
	first := summaries[0].(map[string]any)
	if first["modelId"] != DefaultBedrockModels[0] || first["providerName"] != "Anthropic" ||
		first["modelArn"] != "arn:aws:bedrock:us-west-2::foundation-model/"+DefaultBedrockModels[0] {
		t.Errorf("summary %v", first)
	}
	code, _, body = do(t, signedRequest(t, http.MethodGet, srv.URL+"/foundation-models?byOutputModality=EMBEDDING", "", "bedrock", "us-west-2"))
	if summaries, _ := field(t, body, "modelSummaries").([]any); code != 200 || len(summaries) != 1 ||
		summaries[0].(map[string]any)["modelId"] != "amazon.titan-embed-text-v2:0" {
		t.Errorf("filter: %d %s", code, body)
	}
}

func TestBedrockFaults(t *testing.T) {
	ctx := context.Background()
	b := newBedrock(Options{})
	client := bedrockSDK(t, b, awsKeyID, awsSecret, "us-west-2")
	in := &bedrockruntime.ConverseInput{ModelId: aws.String(haiku), Messages: []types.Message{userText("hi")}}
	streamIn := &bedrockruntime.ConverseStreamInput{ModelId: aws.String(haiku), Messages: []types.Message{userText("one two three")}}

	b.QueueFault(RateLimit(2 * time.Second))
	_, err := client.Converse(ctx, in)
	assertAPIError(t, err, 429, "ThrottlingException", "try again")
	b.QueueFault(Status(500))
	_, err = client.Converse(ctx, in)
	assertAPIError(t, err, 500, "InternalServerException", "")
	b.QueueFault(Status(503))
	_, err = client.ConverseStream(ctx, streamIn)
	assertAPIError(t, err, 503, "ServiceUnavailableException", "")

	// A stream cut after two events.
	b.QueueFault(Cut(2))
	out, err := client.ConverseStream(ctx, streamIn)
	if err != nil {
		t.Fatal(err)
	}
	// The SDK reports a cut between messages as the end of the stream; what
	// shows the cut is that messageStop and metadata never came.
	if text, _, _, stop, usage, err := collect(out); text != "You" || stop != "" || usage != nil {
		t.Errorf("cut stream: %q %s %v %v", text, stop, usage, err)
	}
	// A message with a bad CRC.
	b.QueueFault(Fault{Kind: FaultMalformed, After: 1})
	out, err = client.ConverseStream(ctx, streamIn)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, _, _, err := collect(out); err == nil || !strings.Contains(strings.ToLower(err.Error()), "checksum") {
		t.Errorf("bad CRC: %v", err)
	}
	// An exception event mid-stream.
	b.QueueStreamException(StreamException{After: 2, Type: "throttlingException", Message: "Too many tokens, please wait before trying again."})
	out, err = client.ConverseStream(ctx, streamIn)
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, _, _, err = collect(out)
	var te *types.ThrottlingException
	if !errors.As(err, &te) || !strings.Contains(te.ErrorMessage(), "Too many tokens") {
		t.Errorf("exception: %T %v", err, err)
	}
	// The X-Fake-Fault header works here too (before the signature check).
	srv := serve(t, b)
	code, h, body := call(t, http.MethodGet, srv.URL+"/foundation-models", map[string]string{FaultHeader: "429, retry-after=3"}, "")
	if code != 429 || h.Get("Retry-After") != "3" || !strings.HasPrefix(h.Get("x-amzn-ErrorType"), "ThrottlingException:") || field(t, body, "message") == "" {
		t.Errorf("header fault: %d %v %s", code, h, body)
	}
}

func TestEncodeEventStreamMessage(t *testing.T) {
	frame := EncodeEventStreamMessage([][2]string{{":event-type", "messageStart"}}, []byte(`{"role":"assistant"}`))
	total := binary.BigEndian.Uint32(frame[0:4])
	hlen := binary.BigEndian.Uint32(frame[4:8])
	if int(total) != len(frame) || hlen != uint32(1+len(":event-type")+1+2+len("messageStart")) {
		t.Errorf("lengths %d %d of %d", total, hlen, len(frame))
	}
	if binary.BigEndian.Uint32(frame[8:12]) != crc32.ChecksumIEEE(frame[:8]) ||
		binary.BigEndian.Uint32(frame[len(frame)-4:]) != crc32.ChecksumIEEE(frame[:len(frame)-4]) {
		t.Error("bad CRC")
	}
	if !bytes.HasSuffix(frame[:len(frame)-4], []byte(`{"role":"assistant"}`)) {
		t.Error("payload not last")
	}
}
