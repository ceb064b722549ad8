package fake

import (
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// AzureConfig configures an Azure OpenAI fake.
type AzureConfig struct {
	// APIKeys are accepted in the "api-key" header. Empty accepts any
	// non-empty key.
	APIKeys []string
	// Tokens are Microsoft Entra ID (Azure AD) access tokens accepted as
	// "Authorization: Bearer <token>". Empty refuses every bearer token.
	Tokens []string
	// Deployments maps deployment names to the model each one runs
	// ({"chat": "gpt-4o-mini"}); default {"gpt-4o-mini": "gpt-4o-mini",
	// "text-embedding-3-small": "text-embedding-3-small"}.
	Deployments map[string]string
	// APIVersions are the accepted api-version values; empty accepts any
	// non-empty value.
	APIVersions []string
	// Dimensions is the default embedding size (default 16).
	Dimensions int
	Options
}

// Azure is a fake of Azure OpenAI: the deployment routes
// /openai/deployments/{deployment}/chat/completions and /embeddings with a
// required api-version, the v1 routes /openai/v1/… (model = deployment, no
// api-version), and GET /openai/models.
type Azure struct {
	*core
	cfg AzureConfig
}

// NewAzure returns an Azure OpenAI fake.
func NewAzure(cfg AzureConfig) *Azure {
	if len(cfg.Deployments) == 0 {
		cfg.Deployments = map[string]string{"gpt-4o-mini": "gpt-4o-mini", "text-embedding-3-small": "text-embedding-3-small"}
	}
	a := &Azure{core: newCore(cfg.Options, writeAzureError), cfg: cfg}
	a.handle("POST /openai/deployments/{deployment}/chat/completions", a.chat)
	a.handle("POST /openai/deployments/{deployment}/embeddings", a.embeddings)
	a.handle("GET /openai/models", a.models)
	a.handle("POST /openai/v1/chat/completions", a.chatV1)
	a.handle("POST /openai/v1/embeddings", a.embeddingsV1)
	a.handle("GET /openai/v1/models", a.modelsV1)
	return a
}

// Azure's gateway answers these before the model sees the request.
const (
	azureNotFound      = "Resource not found"
	azureMissingKey    = "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API."
	azureInvalidKey    = "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."
	azureInvalidToken  = "Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired."
	azureNoDeployment  = "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again."
	azureBadAPIVersion = "API version not supported"
)

// version checks the api-version query parameter: missing is a 404 "Resource
// not found" (the route does not match without it, as on the real service);
// one not in APIVersions is a 400.
func (a *Azure) version(x *exchange) bool {
	v := x.r.URL.Query().Get("api-version")
	if v == "" {
		x.fail(apiError{Status: http.StatusNotFound, Kind: errNotFound, Code: "404", Message: azureNotFound})
		return false
	}
	if !allowed(a.cfg.APIVersions, v) {
		x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Code: "BadRequest", Message: azureBadAPIVersion})
		return false
	}
	return true
}

// auth checks "api-key" (a key) or "Authorization: Bearer" (an Entra ID
// token). A key sent as a bearer token, or an OpenAI-style header, fails.
func (a *Azure) auth(x *exchange) bool {
	if key := x.r.Header.Get("api-key"); key != "" {
		if allowed(a.cfg.APIKeys, key) {
			return true
		}
		x.fail(apiError{Status: http.StatusUnauthorized, Kind: errAuth, Code: "401", Message: azureInvalidKey})
		return false
	}
	if h := x.r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if ok && tok != "" && slices.Contains(a.cfg.Tokens, tok) {
			return true
		}
		x.fail(apiError{Status: http.StatusUnauthorized, Kind: errAuth, Code: "401", Message: azureInvalidToken})
		return false
	}
	x.fail(apiError{Status: http.StatusUnauthorized, Kind: errAuth, Code: "401", Message: azureMissingKey})
	return false
}

// deployment resolves a deployment name to its model, or answers 404
// DeploymentNotFound.
func (a *Azure) deployment(x *exchange, name string) (string, bool) {
	if m, ok := a.cfg.Deployments[name]; ok {
		return m, true
	}
	x.fail(apiError{Status: http.StatusNotFound, Kind: errNotFound, Code: "DeploymentNotFound", Message: azureNoDeployment})
	return "", false
}

func (a *Azure) gate(x *exchange, needVersion bool) bool {
	if needVersion && !a.version(x) {
		return false
	}
	return !x.injectStatus() && a.auth(x)
}

func (a *Azure) chat(x *exchange) {
	if !a.gate(x, true) {
		return
	}
	model, ok := a.deployment(x, x.r.PathValue("deployment"))
	var req chatRequest
	if ok && x.decode(&req, openAIBadJSON) {
		serveChat(x, req, model)
	}
}

func (a *Azure) embeddings(x *exchange) {
	if !a.gate(x, true) {
		return
	}
	model, ok := a.deployment(x, x.r.PathValue("deployment"))
	var req embeddingRequest
	if ok && x.decode(&req, openAIBadJSON) {
		serveEmbeddings(x, req, model, a.cfg.Dimensions)
	}
}

func (a *Azure) chatV1(x *exchange) {
	var req chatRequest
	if !a.gate(x, false) || !x.decode(&req, openAIBadJSON) {
		return
	}
	if model, ok := a.deployment(x, req.Model); ok {
		serveChat(x, req, model)
	}
}

func (a *Azure) embeddingsV1(x *exchange) {
	var req embeddingRequest
	if !a.gate(x, false) || !x.decode(&req, openAIBadJSON) {
		return
	}
	if model, ok := a.deployment(x, req.Model); ok {
		serveEmbeddings(x, req, model, a.cfg.Dimensions)
	}
}

func (a *Azure) models(x *exchange) {
	if a.gate(x, true) {
		a.listModels(x)
	}
}

func (a *Azure) modelsV1(x *exchange) {
	if a.gate(x, false) {
		a.listModels(x)
	}
}

func (a *Azure) listModels(x *exchange) {
	seen := map[string]bool{}
	for _, m := range a.cfg.Deployments {
		seen[m] = true
	}
	ids := make([]string, 0, len(seen))
	for m := range seen {
		ids = append(ids, m)
	}
	sort.Strings(ids)
	data := make([]any, len(ids))
	for i, id := range ids {
		data[i] = map[string]any{"id": id, "object": "model", "created_at": x.now().Unix(), "status": "succeeded",
			"capabilities": map[string]any{"chat_completion": !strings.Contains(id, "embedding"), "embeddings": strings.Contains(id, "embedding")}}
	}
	x.reply(map[string]any{"object": "list", "data": data})
}

// writeAzureError writes Azure's gateway shape {"error":{"code","message"}};
// a request the model itself refuses (a 400 on the body) gets OpenAI's shape
// with "status" added, as Azure passes those through.
func writeAzureError(w http.ResponseWriter, e apiError) {
	w.Header().Set("apim-request-id", "00000000-0000-0000-0000-000000000000")
	if e.Kind == errInvalid && e.Code != "BadRequest" && !e.Injected {
		writeJSON(w, e.Status, map[string]any{"error": map[string]any{
			"message": e.Message, "type": "invalid_request_error", "param": nullable(e.Param), "code": nullable(e.Code), "status": e.Status,
		}})
		return
	}
	code := e.Code
	if code == "" {
		switch e.Kind {
		case errServer:
			code = "InternalServerError"
		case errOverloaded:
			code = "ServiceUnavailable"
		case errPermission:
			code = "PermissionDenied"
		default:
			code = strconv.Itoa(e.Status)
		}
	}
	writeJSON(w, e.Status, map[string]any{"error": map[string]any{"code": code, "message": e.Message}})
}
