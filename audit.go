package switchyard

import (
	"encoding/json"
	"time"
)

// AuditEntry records one change: who made it, when, to what, and the
// resource before and after with every secret removed.
type AuditEntry struct {
	ID           string
	At           time.Time
	ActorID      string
	ActorName    string
	Action       string
	ResourceType string
	ResourceID   string
	Before       json.RawMessage
	After        json.RawMessage
	RemoteAddr   string
}
