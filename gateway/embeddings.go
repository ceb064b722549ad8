package gateway

import (
	"encoding/json"
	"net/http"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/provider"
	"github.com/switchyard/switchyard/registry"
)

type embedRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	Dimensions     int             `json:"dimensions"`
	EncodingFormat string          `json:"encoding_format"`
	User           string          `json:"user"`
}

type embedResponse struct {
	Object string      `json:"object"`
	Data   []embedding `json:"data"`
	Model  string      `json:"model"`
	Usage  struct {
		PromptTokens int `json:"prompt_tokens"`
		TotalTokens  int `json:"total_tokens"`
	} `json:"usage"`
}

type embedding struct {
	Object    string    `json:"object"`
	Index     int       `json:"index"`
	Embedding []float32 `json:"embedding"`
}

// embeddings serves POST /v1/embeddings.
func (g *Gateway) embeddings(w http.ResponseWriter, r *http.Request) {
	var req embedRequest
	c := g.begin(w, r, &req)
	if c == nil {
		return
	}
	start, snap, conn, u := c.start, c.snap, c.conn, c.u
	u.Model = req.Model
	if req.EncodingFormat != "" && req.EncodingFormat != "float" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_request", "encoding_format", "only encoding_format \"float\" is supported")
		g.finish(u, start, switchyard.UsageError, "invalid_request", http.StatusBadRequest)
		return
	}
	var inputs []string
	var one string
	if json.Unmarshal(req.Input, &one) == nil {
		inputs = []string{one}
	} else if err := json.Unmarshal(req.Input, &inputs); err != nil || len(inputs) == 0 {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_request", "input", "input must be a string or a non-empty array of strings")
		g.finish(u, start, switchyard.UsageError, "invalid_request", http.StatusBadRequest)
		return
	}
	routes, err := routesFor(snap, conn, req.Model)
	if err != nil {
		g.clientError(w, u, start, err)
		return
	}
	var res *provider.EmbedResponse
	var used registry.Route
	err = g.attempt(r.Context(), u, routes, func(c candidate) (bool, error) {
		var err error
		res, err = c.key.Adapter.Embed(r.Context(), &provider.EmbedRequest{Model: c.route.Model.UpstreamID, Input: inputs, Dimensions: req.Dimensions})
		used = c.route
		return false, err
	})
	if err != nil {
		g.failed(w, r, u, start, err)
		return
	}
	out := embedResponse{Object: "list", Model: req.Model, Data: make([]embedding, len(res.Vectors))}
	for i, v := range res.Vectors {
		out.Data[i] = embedding{Object: "embedding", Index: i, Embedding: v}
	}
	out.Usage.PromptTokens, out.Usage.TotalTokens = res.Usage.InputTokens, res.Usage.InputTokens
	u.InputTokens = res.Usage.InputTokens
	u.CostUSD = cost(used.Model.Pricing, res.Usage)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
	g.finish(u, start, switchyard.UsageOK, "", http.StatusOK)
}
