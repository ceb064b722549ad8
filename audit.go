package switchyard

import (
	"encoding/json"
	"time"
)

// AuditEntry records one change: who made it, when, to what, and the
// resource before and after with every secret removed.
type AuditEntry struct {
	ID           string          `json:"id"`
	At           time.Time       `json:"at"`
	ActorID      string          `json:"actor_id"`
	ActorName    string          `json:"actor_name"`
	Action       string          `json:"action"`
	ResourceType string          `json:"resource_type"`
	ResourceID   string          `json:"resource_id"`
	Before       json.RawMessage `json:"before"`
	After        json.RawMessage `json:"after"`
	RemoteAddr   string          `json:"remote_addr"`
}
