// Package protocols builds the adapter of a stored provider: it picks the
// protocol's package and gives it the guarded HTTP client and the token
// auth methods. It is the one place that knows every protocol package.
package protocols

import (
	"fmt"
	"net/http"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/provider"
	"github.com/switchyard/switchyard/provider/anthropic"
	"github.com/switchyard/switchyard/provider/azure"
	"github.com/switchyard/switchyard/provider/bedrock"
	"github.com/switchyard/switchyard/provider/gemini"
	"github.com/switchyard/switchyard/provider/ollama"
	"github.com/switchyard/switchyard/provider/openai"
	"github.com/switchyard/switchyard/provider/tokenauth"
)

// Factory builds adapters.
type Factory struct {
	// HTTP sends upstream requests (a netguard client, no overall timeout).
	HTTP provider.Doer
	// TokenHTTP fetches OAuth2, GCP and Azure AD tokens (a netguard client).
	TokenHTTP *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// New returns the adapter of p using credential cred, sending through
// client (nil: the factory's HTTP client).
func (f *Factory) New(p *switchyard.Provider, cred switchyard.Credential, client provider.Doer) (provider.Adapter, error) {
	if client == nil {
		client = f.HTTP
	}
	cfg := provider.Config{Provider: p, Credential: cred, HTTP: client, TokenHTTP: f.TokenHTTP,
		Tokens: tokenauth.Factory, Now: f.Now}
	switch p.Protocol {
	case switchyard.ProtocolOpenAI, switchyard.ProtocolOpenAICompatible:
		return openai.New(cfg)
	case switchyard.ProtocolAzureOpenAI:
		return azure.New(cfg)
	case switchyard.ProtocolAnthropic:
		return anthropic.New(cfg)
	case switchyard.ProtocolBedrock:
		return bedrock.New(cfg)
	case switchyard.ProtocolGemini, switchyard.ProtocolVertex:
		return gemini.New(cfg)
	case switchyard.ProtocolOllama:
		return ollama.New(cfg)
	}
	return nil, fmt.Errorf("protocol %s has no adapter in this build", p.Protocol)
}
