package transfer_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/switchyard/switchyard/sqlstore/storetest"
	"github.com/switchyard/switchyard/transfer"
)

// Every export, sealed or not, in JSON or YAML, is valid against the
// published schema; the schema refuses what the decoder refuses.
func TestExportsMatchThePublishedSchema(t *testing.T) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(transfer.Schema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("export.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("export.json")
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.SQLite().Open(t)
	seed(t, db)
	for _, pass := range []string{"", passphrase} {
		d, _ := export(t, db, transfer.ExportOptions{Passphrase: pass})
		for _, format := range []string{"json", "yaml"} {
			raw, err := d.Encode(format)
			if err != nil {
				t.Fatal(err)
			}
			var v any
			if err := yaml.Unmarshal(raw, &v); err != nil {
				t.Fatal(err)
			}
			j, _ := json.Marshal(v)
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(inst); err != nil {
				t.Fatalf("%s export (sealed: %v) does not match the schema: %v", format, pass != "", err)
			}
		}
	}
	bad, _ := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(`{"format":"switchyard-export","version":1,"secrets":"omitted","templates":[],"connections":[],"providers":[{"slug":"x","name":"x","protocol":"openai","base_url":"https://x","colour":"red"}]}`)))
	if sch.Validate(bad) == nil {
		t.Fatal("the schema accepts an unknown provider field")
	}
}
