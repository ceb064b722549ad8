package sqlstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

// TestSQLiteConcurrentWriters has many goroutines write to one SQLite file
// at once. SQLite allows one writer at a time, so the store must make
// writers wait for each other: no caller may see "database is busy"
// (EUNAVAILABLE) or a raw SQLITE_BUSY, and every successful write must be in
// the database at the end.
func TestSQLiteConcurrentWriters(t *testing.T) {
	if testing.Short() {
		t.Skip("stress test skipped in -short mode")
	}
	const (
		workers    = 50
		maxOps     = 200 // per worker
		runFor     = 3 * time.Second
		seedCount  = 5  // shared providers that the updates contend for
		bulkModels = 5  // models per CreateModels call
		txModels   = 3  // models created inside each InTx
		maxRetries = 10 // reads and updates of a shared provider before giving up on ESTALE
	)
	ctx := context.Background()
	db := storetest.SQLite().Open(t)

	seeds := make([]string, seedCount)
	for i := range seeds {
		p := benchProvider(fmt.Sprintf("seed-%d", i))
		if err := db.CreateProvider(ctx, p); err != nil {
			t.Fatal(err)
		}
		seeds[i] = p.ID
	}

	type ownModel struct {
		id      string
		version int64
	}
	type tally struct {
		ops, providers, models, deleted, updates, txs, stale, gaveUp int
		unexpected                                                   []error
	}
	tallies := make([]tally, workers)
	deadline := time.Now().Add(runFor)
	start := time.Now()

	var wg sync.WaitGroup
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tl := &tallies[g]
			var mine []ownModel
			fail := func(op string, err error) {
				tl.unexpected = append(tl.unexpected, fmt.Errorf("worker %d %s: %w", g, op, err))
			}
			for i := 0; i < maxOps && time.Now().Before(deadline); i++ {
				tl.ops++
				switch op := (g + i) % 5; {
				case op == 0: // CreateProvider
					p := benchProvider(fmt.Sprintf("w%02d-%04d", g, i))
					if err := db.CreateProvider(ctx, p); err != nil {
						fail("create provider", err)
						continue
					}
					tl.providers++

				case op == 1: // UpdateProvider on a shared provider, re-reading on ESTALE
					// Spread the updaters over the shared providers.
					id := seeds[(g/5+i)%len(seeds)]
					for attempt := 1; ; attempt++ {
						p, err := db.GetProvider(ctx, id)
						if err != nil {
							fail("get provider", err)
							break
						}
						p.Name = fmt.Sprintf("Seed by worker %d op %d", g, i)
						err = db.UpdateProvider(ctx, p)
						if switchyard.ErrorCode(err) == switchyard.ESTALE {
							// Expected: someone else updated it first.
							tl.stale++
							if attempt < maxRetries {
								continue
							}
							tl.gaveUp++
							break
						}
						if err != nil {
							fail("update provider", err)
							break
						}
						tl.updates++
						break
					}

				case op == 2 || (op == 4 && len(mine) == 0): // CreateModels
					ms := make([]*switchyard.Model, bulkModels)
					for k := range ms {
						ms[k] = benchModel(seeds[(g+k)%len(seeds)], fmt.Sprintf("bulk-w%02d-%04d-%d", g, i, k))
					}
					if err := db.CreateModels(ctx, ms); err != nil {
						fail("create models", err)
						continue
					}
					tl.models += len(ms)
					for _, m := range ms {
						mine = append(mine, ownModel{m.ID, m.Version})
					}

				case op == 3: // several writes in one transaction
					var created []*switchyard.Model
					err := db.InTx(ctx, func(tx switchyard.Store) error {
						p := benchProvider(fmt.Sprintf("tx-w%02d-%04d", g, i))
						if err := tx.CreateProvider(ctx, p); err != nil {
							return err
						}
						ms := make([]*switchyard.Model, txModels)
						for k := range ms {
							ms[k] = benchModel(p.ID, fmt.Sprintf("tx-%d", k))
						}
						if err := tx.CreateModels(ctx, ms); err != nil {
							return err
						}
						ms[0].Status = switchyard.ModelAvailable
						if err := tx.UpdateModel(ctx, ms[0]); err != nil {
							return err
						}
						if err := tx.SetProviderStatus(ctx, p.ID, switchyard.StatusHealthy); err != nil {
							return err
						}
						created = ms
						return nil
					})
					if err != nil {
						fail("transaction", err)
						continue
					}
					tl.txs++
					tl.providers++
					tl.models += len(created)
					for _, m := range created {
						mine = append(mine, ownModel{m.ID, m.Version})
					}

				default: // DeleteModel of one this worker created
					m := mine[len(mine)-1]
					if err := db.DeleteModel(ctx, m.id, m.version); err != nil {
						fail("delete model", err)
						continue
					}
					mine = mine[:len(mine)-1]
					tl.deleted++
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	var sum tally
	for _, tl := range tallies {
		sum.ops += tl.ops
		sum.providers += tl.providers
		sum.models += tl.models
		sum.deleted += tl.deleted
		sum.updates += tl.updates
		sum.txs += tl.txs
		sum.stale += tl.stale
		sum.gaveUp += tl.gaveUp
		sum.unexpected = append(sum.unexpected, tl.unexpected...)
	}
	byCode := map[string]int{}
	for i, err := range sum.unexpected {
		byCode[switchyard.ErrorCode(err)]++
		if i < 10 {
			t.Errorf("unexpected error: %v", err)
		}
		msg := err.Error()
		if switchyard.ErrorCode(err) == switchyard.EUNAVAILABLE ||
			strings.Contains(msg, "database is locked") || strings.Contains(msg, "SQLITE_BUSY") {
			t.Errorf("a busy database reached the caller: %v", err)
		}
	}
	t.Logf("%d workers, %v: %d operations: %d providers created, %d models created, %d models deleted, %d provider updates, %d transactions; "+
		"ESTALE: %d (%d updates gave up after %d tries); unexpected errors by code: %v",
		workers, elapsed.Round(time.Millisecond), sum.ops, sum.providers, sum.models, sum.deleted, sum.updates, sum.txs,
		sum.stale, sum.gaveUp, maxRetries, byCode)

	count := func(table string) int {
		var n int
		if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got, want := count("providers"), seedCount+sum.providers; got != want {
		t.Errorf("providers in the database: %d, want %d", got, want)
	}
	if got, want := count("provider_credentials"), 2*(seedCount+sum.providers); got != want {
		t.Errorf("credentials in the database: %d, want %d", got, want)
	}
	if got, want := count("models"), sum.models-sum.deleted; got != want {
		t.Errorf("models in the database: %d, want %d", got, want)
	}
	var seedVersions int
	if err := db.SQL().QueryRow(`SELECT COALESCE(SUM(version - 1), 0) FROM providers WHERE slug LIKE 'seed-%'`).Scan(&seedVersions); err != nil {
		t.Fatal(err)
	}
	if seedVersions != sum.updates {
		t.Errorf("seed providers were updated %d times, want %d", seedVersions, sum.updates)
	}
}
