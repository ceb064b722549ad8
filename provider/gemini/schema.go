package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// maxSchemaDepth bounds nesting and $ref expansion (a recursive schema
// cannot be written in Gemini's Schema, which has no references).
const maxSchemaDepth = 32

// schemaCopied are the JSON Schema keywords Gemini's Schema (an OpenAPI
// 3.0 subset) has under the same name and meaning.
var schemaCopied = []string{"title", "description", "nullable", "maxItems", "minItems", "minProperties", "maxProperties",
	"minLength", "maxLength", "pattern", "minimum", "maximum", "default", "example", "propertyOrdering"}

// schemaFormats are the formats Gemini accepts, by type.
var schemaFormats = map[string][]string{
	"STRING":  {"enum", "date-time"},
	"NUMBER":  {"float", "double"},
	"INTEGER": {"int32", "int64"},
}

// convertSchema turns a JSON Schema into Gemini's Schema: types in upper
// case, ["T","null"] as nullable, const as a one-value enum, oneOf as
// anyOf, $ref to $defs or definitions inlined, a lone allOf merged, and the
// keywords Gemini refuses dropped (additionalProperties, $schema, $id,
// exclusiveMinimum, non-string enums, unsupported formats, …).
func convertSchema(raw json.RawMessage) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil || root == nil {
		return nil, errors.New("the schema is not a JSON object")
	}
	defs := map[string]any{}
	for _, k := range []string{"definitions", "$defs"} {
		if d, ok := root[k].(map[string]any); ok {
			for name, s := range d {
				defs["#/"+k+"/"+name] = s
			}
		}
	}
	out, err := convert(root, defs, 0)
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

func convert(s map[string]any, defs map[string]any, depth int) (map[string]any, error) {
	if depth > maxSchemaDepth {
		return nil, errors.New("the schema is nested too deeply or refers to itself")
	}
	if ref, ok := s["$ref"].(string); ok {
		target, ok := defs[ref].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("$ref %q does not name a definition of the schema", ref)
		}
		merged := map[string]any{}
		for k, v := range target {
			merged[k] = v
		}
		for k, v := range s {
			if k != "$ref" {
				merged[k] = v
			}
		}
		return convert(merged, defs, depth+1)
	}
	if all, ok := s["allOf"].([]any); ok && len(all) == 1 {
		if sub, ok := all[0].(map[string]any); ok {
			merged := map[string]any{}
			for k, v := range sub {
				merged[k] = v
			}
			for k, v := range s {
				if k != "allOf" {
					merged[k] = v
				}
			}
			return convert(merged, defs, depth+1)
		}
	}

	out := map[string]any{}
	for _, k := range schemaCopied {
		if v, ok := s[k]; ok {
			out[k] = v
		}
	}
	if _, ok := out["example"]; !ok {
		if ex, ok := s["examples"].([]any); ok && len(ex) > 0 {
			out["example"] = ex[0]
		}
	}

	var types []string
	switch t := s["type"].(type) {
	case string:
		types = []string{t}
	case []any:
		for _, v := range t {
			if v, ok := v.(string); ok {
				types = append(types, v)
			}
		}
	}
	var nonNull []string
	for _, t := range types {
		if t == "null" {
			out["nullable"] = true
		} else {
			nonNull = append(nonNull, strings.ToUpper(t))
		}
	}
	switch {
	case len(nonNull) == 1:
		out["type"] = nonNull[0]
	case len(nonNull) > 1:
		// Several types: an anyOf of each.
		var alts []any
		for _, t := range nonNull {
			alt := map[string]any{"type": t}
			if t == "ARRAY" || t == "OBJECT" {
				sub := map[string]any{}
				for k, v := range s {
					if k != "type" && k != "nullable" {
						sub[k] = v
					}
				}
				sub["type"] = strings.ToLower(t)
				c, err := convert(sub, defs, depth+1)
				if err != nil {
					return nil, err
				}
				alt = c
			}
			alts = append(alts, alt)
		}
		out["anyOf"] = alts
		return out, nil
	case len(types) == 1: // "null" alone
		out["type"] = "NULL"
	}

	if f, ok := s["format"].(string); ok {
		if t, _ := out["type"].(string); slices.Contains(schemaFormats[t], f) {
			out["format"] = f
		}
	}
	if c, ok := s["const"]; ok {
		if str, ok := c.(string); ok {
			out["enum"] = []any{str}
			if _, ok := out["type"]; !ok {
				out["type"] = "STRING"
			}
		}
	}
	if e, ok := s["enum"].([]any); ok {
		strs := true
		for _, v := range e {
			_, ok := v.(string)
			strs = strs && ok
		}
		if strs && len(e) > 0 {
			out["enum"] = e
			if _, ok := out["type"]; !ok {
				out["type"] = "STRING"
			}
		}
	}

	if props, ok := s["properties"].(map[string]any); ok && len(props) > 0 {
		conv := map[string]any{}
		for name, sub := range props {
			m, ok := sub.(map[string]any)
			if !ok {
				m = map[string]any{} // true / false schemas: no constraint
			}
			c, err := convert(m, defs, depth+1)
			if err != nil {
				return nil, err
			}
			conv[name] = c
		}
		out["properties"] = conv
		if req, ok := s["required"].([]any); ok {
			var keep []any
			for _, r := range req {
				if name, ok := r.(string); ok {
					if _, ok := props[name]; ok {
						keep = append(keep, name)
					}
				}
			}
			if len(keep) > 0 {
				out["required"] = keep
			}
		}
	}
	if items, ok := s["items"].(map[string]any); ok {
		c, err := convert(items, defs, depth+1)
		if err != nil {
			return nil, err
		}
		out["items"] = c
	}
	for _, k := range []string{"anyOf", "oneOf"} {
		alts, ok := s[k].([]any)
		if !ok {
			continue
		}
		var conv []any
		for _, a := range alts {
			m, ok := a.(map[string]any)
			if !ok {
				continue
			}
			if t, _ := m["type"].(string); t == "null" && len(m) == 1 {
				out["nullable"] = true
				continue
			}
			c, err := convert(m, defs, depth+1)
			if err != nil {
				return nil, err
			}
			conv = append(conv, c)
		}
		switch {
		case len(conv) == 1 && out["type"] == nil:
			// {"anyOf":[X,{"type":"null"}]}: X, nullable.
			for k, v := range conv[0].(map[string]any) {
				if _, set := out[k]; !set {
					out[k] = v
				}
			}
		case len(conv) > 0:
			out["anyOf"] = conv
		}
	}
	return out, nil
}

// emptyObject reports whether a converted schema is an object with no
// properties, which Gemini refuses as function parameters (a function
// without parameters has none).
func emptyObject(raw json.RawMessage) bool {
	var s map[string]any
	if json.Unmarshal(raw, &s) != nil {
		return false
	}
	_, props := s["properties"]
	return !props && (s["type"] == "OBJECT" || s["type"] == nil) && s["anyOf"] == nil
}
