// Package provider defines how Switchyard talks to upstream LLM providers:
// the Adapter interface every protocol implements, the one internal chat
// format that requests and responses translate to and from, the typed
// upstream error, and the auth methods that sign outgoing requests.
//
// One package per protocol (provider/openai, provider/anthropic, …)
// implements Adapter; provider/protocols builds the right one for a stored
// provider. Every adapter sends its requests through the HTTP client it is
// given, which in production comes from netguard (the SSRF guard).
package provider

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Adapter speaks one protocol to one provider with one credential. It is
// safe for concurrent use.
type Adapter interface {
	// Chat sends a chat request and waits for the whole answer.
	Chat(ctx context.Context, req *ChatRequest) (*ChatResponse, error)
	// ChatStream sends a chat request and returns the answer as it comes.
	ChatStream(ctx context.Context, req *ChatRequest) (ChatStream, error)
	// Embed returns embedding vectors; ErrUnsupported where the protocol
	// has none.
	Embed(ctx context.Context, req *EmbedRequest) (*EmbedResponse, error)
	// ListModels returns the models the provider offers.
	ListModels(ctx context.Context) ([]ModelInfo, error)
	// Ping makes the cheapest authenticated call the protocol allows.
	Ping(ctx context.Context) error
}

// ChatStream yields the chunks of a streamed answer.
type ChatStream interface {
	// Recv returns the next chunk, or io.EOF after the last one.
	Recv() (*ChatChunk, error)
	// Close releases the connection; it may be called at any time.
	Close() error
}

// A ReadNotifier stream calls a function each time it is about to read
// from the network, on the goroutine that calls Recv. A caller that writes
// chunks to a client flushes there: chunks that arrived together go out in
// one write, as a proxy copying bytes would send them, and no chunk waits
// unflushed while the stream waits for the next.
type ReadNotifier interface {
	BeforeRead(fn func())
}

// Role is who speaks a message.
type Role string

const (
	RoleSystem    Role = "system"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool"
)

// ChatRequest is a chat request in the internal format.
type ChatRequest struct {
	// Model is the upstream model id (a deployment name on Azure).
	Model    string
	Messages []Message
	Tools    []Tool
	// ToolChoice is "", "auto", "none", "required", or a tool's name.
	ToolChoice  string
	Temperature *float64
	TopP        *float64
	// MaxTokens bounds the answer; 0 leaves it to the provider (protocols
	// that require a value use DefaultMaxTokens).
	MaxTokens int
	Stop      []string
	// ResponseFormat asks for JSON output.
	ResponseFormat *ResponseFormat
	// User identifies the end user to the provider, where it takes one.
	User string
}

// DefaultMaxTokens is used by protocols that require max tokens when the
// request gives none.
const DefaultMaxTokens = 4096

// Message is one turn of a conversation.
type Message struct {
	Role    Role
	Content []Part
	// ToolCalls are the calls an assistant message makes.
	ToolCalls []ToolCall
	// ToolCallID is, on a tool message, the call it answers.
	ToolCallID string
	Name       string
}

// Text returns the message's text parts joined.
func (m Message) Text() string {
	var s string
	for _, p := range m.Content {
		if p.Type == PartText {
			s += p.Text
		}
	}
	return s
}

// TextMessage is a message with one text part.
func TextMessage(role Role, text string) Message {
	return Message{Role: role, Content: []Part{{Type: PartText, Text: text}}}
}

// PartType is the kind of a content part.
type PartType string

const (
	PartText  PartType = "text"
	PartImage PartType = "image"
)

// Part is a piece of message content.
type Part struct {
	Type  PartType
	Text  string
	Image *Image
}

// Image is image input: a data URL's bytes, or a remote URL that only
// protocols fetching it themselves accept (Switchyard never fetches it).
type Image struct {
	MediaType string
	Data      []byte
	URL       string
	Detail    string
}

// Tool is a function the model may call.
type Tool struct {
	Name        string
	Description string
	// Parameters is the JSON Schema of the arguments.
	Parameters json.RawMessage
}

// ToolCall is a call the model made.
type ToolCall struct {
	ID        string
	Name      string
	Arguments string // JSON
}

// ResponseFormat asks for JSON output: Type "json_object", or "json_schema"
// with a schema.
type ResponseFormat struct {
	Type   string
	Name   string
	Schema json.RawMessage
	Strict bool
}

// FinishReason says why the model stopped.
type FinishReason string

const (
	FinishStop          FinishReason = "stop"
	FinishLength        FinishReason = "length"
	FinishToolCalls     FinishReason = "tool_calls"
	FinishContentFilter FinishReason = "content_filter"
)

// Usage counts tokens.
type Usage struct {
	InputTokens       int
	OutputTokens      int
	CachedInputTokens int
	CacheWriteTokens  int
	ReasoningTokens   int
}

// Add sums usage.
func (u *Usage) Add(o Usage) {
	u.InputTokens += o.InputTokens
	u.OutputTokens += o.OutputTokens
	u.CachedInputTokens += o.CachedInputTokens
	u.CacheWriteTokens += o.CacheWriteTokens
	u.ReasoningTokens += o.ReasoningTokens
}

// ChatResponse is a whole answer.
type ChatResponse struct {
	ID           string
	Model        string
	Message      Message
	FinishReason FinishReason
	Usage        Usage
	Created      time.Time
}

// ChatChunk is a piece of a streamed answer. The first chunk of a stream
// carries the ID and Model; the last carries the FinishReason, and Usage
// where the protocol reports it.
type ChatChunk struct {
	ID           string
	Model        string
	Text         string
	ToolCalls    []ToolCallDelta
	FinishReason FinishReason
	Usage        *Usage
}

// ToolCallDelta is part of a tool call in a stream; Index tells calls
// apart, ID and Name come with the first part.
type ToolCallDelta struct {
	Index     int
	ID        string
	Name      string
	Arguments string
}

// EmbedRequest asks for embedding vectors.
type EmbedRequest struct {
	Model      string
	Input      []string
	Dimensions int
}

// EmbedResponse holds one vector per input, in order.
type EmbedResponse struct {
	Model   string
	Vectors [][]float32
	Usage   Usage
}

// ModelInfo is what a provider's model list says of a model; zero fields
// are unknown.
type ModelInfo struct {
	ID               string
	DisplayName      string
	ContextWindow    int
	MaxOutputTokens  int
	InputModalities  []string
	OutputModalities []string
	Embeddings       bool
	OwnedBy          string
	Created          time.Time
}

// Doer sends HTTP requests: *http.Client, in production one from netguard.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}
