package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/switchyard/switchyard/api"
)

// TestDocument checks what users of the reference rely on: the document is
// valid OpenAPI, and every operation has an id, a summary, a description, an
// example, and the problem document as its error answer.
func TestDocument(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.YAML)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("invalid OpenAPI document: %v", err)
	}
	ops := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops++
			name := method + " " + path
			if op.OperationID == "" || op.Summary == "" {
				t.Errorf("%s lacks an operationId or a summary", name)
			}
			if strings.TrimSpace(op.Description) == "" && len(op.Summary) < 10 {
				t.Errorf("%s lacks a description", name)
			}
			if !hasExample(op, item.Parameters) && op.OperationID != "deleteSession" {
				t.Errorf("%s has no example (request body or a response)", name)
			}
			if def := op.Responses.Default(); def == nil || def.Value == nil || def.Value.Content.Get("application/problem+json") == nil {
				t.Errorf("%s does not answer errors with application/problem+json", name)
			}
			if method != "GET" && op.Security != nil && len(*op.Security) == 0 && op.OperationID != "createSession" {
				t.Errorf("%s needs no authentication; only createSession may", name)
			}
		}
	}
	if ops < 38 {
		t.Fatalf("the document has %d operations, fewer than the API serves", ops)
	}
}

func hasExample(op *openapi3.Operation, pathParams openapi3.Parameters) bool {
	for _, p := range append(pathParams, op.Parameters...) {
		if p.Value != nil && p.Value.In == "path" && p.Value.Example != nil {
			return true
		}
	}
	if op.RequestBody != nil && op.RequestBody.Value != nil {
		for _, mt := range op.RequestBody.Value.Content {
			if mt.Example != nil || len(mt.Examples) > 0 {
				return true
			}
		}
	}
	for code, r := range op.Responses.Map() {
		if r.Value == nil || code == "default" {
			continue
		}
		for _, mt := range r.Value.Content {
			if mt.Example != nil || len(mt.Examples) > 0 {
				return true
			}
		}
	}
	return false
}
