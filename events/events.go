// Package events is the in-process broker of live events: what the
// dashboard's stream (GET /api/v1/events) shows as it happens. Producers
// publish typed events (a provider's status changed, the registry was
// rebuilt; test and benchmark progress are meant to join them) and never
// wait: each subscriber has a bounded buffer, and one that falls behind is
// cut off, to come back with the id of the last event it saw. The broker
// keeps the most recent events so that such a return misses nothing that
// is still kept.
package events

import (
	"encoding/json"
	"sync"
	"time"
)

// Event types. A producer may add its own; the stream sends the type as
// the SSE event name.
const (
	// TypeProviderStatus: a provider's health status changed
	// (data: provider_id, slug, from, to, reason, at).
	TypeProviderStatus = "provider.status"
	// TypeRegistry: the gateway's registry was rebuilt (data: version,
	// store_version, reason, providers, models).
	TypeRegistry = "registry.changed"
	// TypeBenchmarkProgress is reserved for test and benchmark progress.
	TypeBenchmarkProgress = "benchmark.progress"
)

// Event is one published event.
type Event struct {
	// ID increases by one per event within a process.
	ID   uint64
	Type string
	At   time.Time
	// AdminOnly events are sent to admins only.
	AdminOnly bool
	// Data is the event's JSON payload.
	Data json.RawMessage
}

// Config tunes a broker.
type Config struct {
	// Buffer is how many events a subscriber may fall behind before it is
	// cut off (default 64).
	Buffer int
	// Keep is how many recent events are kept for subscribers that come
	// back (default 256).
	Keep int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Broker fans published events out to subscribers.
type Broker struct {
	cfg    Config
	mu     sync.Mutex
	last   uint64
	recent []Event // ring of the last cfg.Keep events, oldest first once full
	start  int
	subs   map[*Subscription]struct{}
}

// New returns a broker.
func New(cfg Config) *Broker {
	if cfg.Buffer <= 0 {
		cfg.Buffer = 64
	}
	if cfg.Keep <= 0 {
		cfg.Keep = 256
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Broker{cfg: cfg, subs: map[*Subscription]struct{}{}}
}

// Publish sends an event to every subscriber without waiting for any. data
// is encoded as JSON; a value that cannot be encoded is dropped.
func (b *Broker) Publish(typ string, adminOnly bool, data any) {
	raw, err := json.Marshal(data)
	if err != nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.last++
	e := Event{ID: b.last, Type: typ, At: b.cfg.Now().UTC(), AdminOnly: adminOnly, Data: raw}
	if len(b.recent) < b.cfg.Keep {
		b.recent = append(b.recent, e)
	} else {
		b.recent[b.start] = e
		b.start = (b.start + 1) % b.cfg.Keep
	}
	for s := range b.subs {
		select {
		case s.c <- e:
		default:
			// Too far behind: cut it off; it returns with Last-Event-ID.
			b.drop(s)
		}
	}
}

// LastID returns the id of the latest event (0 before the first).
func (b *Broker) LastID() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}

// Subscription receives events until it is closed or cut off.
type Subscription struct {
	b *Broker
	c chan Event
	// Gap is set when events after the requested one are no longer kept.
	Gap bool
}

// C delivers the events; it is closed when the subscription ends (Close,
// or cut off for falling behind).
func (s *Subscription) C() <-chan Event { return s.c }

// Close ends the subscription.
func (s *Subscription) Close() {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.drop(s)
}

func (b *Broker) drop(s *Subscription) {
	if _, ok := b.subs[s]; ok {
		delete(b.subs, s)
		close(s.c)
	}
}

// Subscribe starts a subscription. With after > 0 (a Last-Event-ID), the
// kept events after it are delivered first; Gap says some were already
// gone.
func (b *Broker) Subscribe(after uint64) *Subscription {
	b.mu.Lock()
	defer b.mu.Unlock()
	var replay []Event
	if after > 0 && after < b.last {
		for i := range b.recent {
			e := b.recent[(b.start+i)%len(b.recent)]
			if e.ID > after {
				replay = append(replay, e)
			}
		}
	}
	s := &Subscription{b: b, c: make(chan Event, b.cfg.Buffer+len(replay))}
	if after > 0 && after < b.last && (len(replay) == 0 || replay[0].ID != after+1) {
		s.Gap = true
	}
	for _, e := range replay {
		s.c <- e
	}
	b.subs[s] = struct{}{}
	return s
}

// Subscribers returns how many subscriptions are open.
func (b *Broker) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}
