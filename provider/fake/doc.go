// Package fake holds protocol-faithful fake upstreams: one http.Handler per
// provider protocol (OpenAI and OpenAI-compatible, Azure OpenAI, Anthropic,
// Ollama) that answers well enough for the official SDKs to work against it,
// checks authentication the way the real service does, and fails on demand.
//
// The fakes serve tests, benchmarks and the demo mode. Each one is built from a
// config value (no globals) and carries two shared controls:
//
//   - [Faults]: latency, error statuses (401, 403, 404, 429 with Retry-After,
//     500, 503, …), malformed bodies, streams cut after N events and streams
//     that stall. Set them in code (SetFault, QueueFault) or per request with
//     the X-Fake-Fault header (see [ParseFault]).
//   - [Recorder]: counts every request that reached the fake and keeps the
//     last ones (method, path, query, headers, body) so a test can assert what
//     was forwarded upstream.
//
// Replies are deterministic: the assistant repeats a short summary of the last
// user message, calls a tool when tools are offered and the prompt names one
// (or the tool choice forces it), and reports usage as about one token per four
// characters, so cost arithmetic has numbers to work with.
//
// Each protocol lives in its own file; a new one (Bedrock, Gemini, Vertex)
// adds a file with its config, its routes and its error shape, and reuses the
// pipeline in core.go.
package fake
