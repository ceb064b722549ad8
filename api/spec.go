// Package api holds the OpenAPI document of the admin REST API, the single
// source of truth from which the Go server types (httpapi/apigen) and the web
// client types are generated.
package api

import _ "embed"

// YAML is api/openapi.yaml as written.
//
//go:embed openapi.yaml
var YAML []byte

//go:generate go tool oapi-codegen -config oapi-codegen.yaml openapi.yaml
