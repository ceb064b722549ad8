package gateway

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// SpendSource tells what connections have spent since a time: the usage
// store (switchyard.UsageStore.ConnectionSpend).
type SpendSource interface {
	ConnectionSpend(ctx context.Context, connectionIDs []string, since time.Time) (map[string]float64, error)
}

// budgets tracks what connections with a monthly budget have spent this
// calendar month (UTC). The store is the truth across replicas; it is read
// again at most every interval, off the request path, and what this
// replica's requests cost is added in between. A request is checked before
// it starts, so one in flight when the budget is reached completes.
type budgets struct {
	src   SpendSource
	every time.Duration
	log   *slog.Logger

	mu         sync.Mutex
	month      time.Time
	spent      map[string]float64 // connection id → spent this month
	since      map[string]float64 // cost added while a refresh is running
	loaded     time.Time          // when the last refresh started
	refreshing bool
}

func newBudgets(src SpendSource, every time.Duration, log *slog.Logger) *budgets {
	return &budgets{src: src, every: every, log: log, spent: map[string]float64{}, since: map[string]float64{}}
}

func monthOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// spentBy returns what the connection has spent this month, as known now.
// The first time a connection is seen its spend is read from the store
// before the answer (one indexed query); after that a refresh of every
// tracked connection starts in the background when the last one is older
// than the interval. When the store cannot be read the request is let
// through on what this replica counted, and a warning logged.
func (b *budgets) spentBy(connID string, now time.Time) float64 {
	b.mu.Lock()
	if m := monthOf(now); !m.Equal(b.month) {
		b.month, b.spent, b.since, b.loaded = m, map[string]float64{}, map[string]float64{}, now
	}
	month := b.month
	usd, known := b.spent[connID]
	if known && b.src != nil && !b.refreshing && now.Sub(b.loaded) >= b.every {
		b.refreshing, b.loaded = true, now
		ids := make([]string, 0, len(b.spent))
		for id := range b.spent {
			ids = append(ids, id)
		}
		clear(b.since)
		go b.refresh(ids, month)
	}
	b.mu.Unlock()
	if known || b.src == nil {
		return usd
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	got, err := b.src.ConnectionSpend(ctx, []string{connID}, month)
	if err != nil {
		// Tracked from zero: the periodic refresh tries the store again,
		// and requests do not each wait on a store that is down.
		b.log.Warn("budgets: reading a connection's spend failed; counting from zero until the store answers",
			"connection", connID, "err", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.spent[connID]; !ok && month.Equal(b.month) {
		b.spent[connID] = got[connID]
	}
	return b.spent[connID]
}

// add counts a finished request's cost for a connection being tracked.
func (b *budgets) add(connID string, usd float64) {
	if usd <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.spent[connID]; ok {
		b.spent[connID] += usd
		if b.refreshing {
			b.since[connID] += usd
		}
	}
}

// refresh reads the month's spend from the store; what was added while it
// ran is kept on top.
func (b *budgets) refresh(ids []string, month time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := b.src.ConnectionSpend(ctx, ids, month)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refreshing = false
	if err != nil {
		b.log.Warn("budgets: reading this month's spend failed; using what this replica counted", "err", err)
		return
	}
	if !month.Equal(b.month) {
		return
	}
	for _, id := range ids {
		b.spent[id] = got[id] + b.since[id]
	}
	clear(b.since)
}
