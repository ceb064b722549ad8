package health_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/health"
	"github.com/switchyard/switchyard/netguard"
	"github.com/switchyard/switchyard/provider/fake"
	"github.com/switchyard/switchyard/provider/protocols"
	"github.com/switchyard/switchyard/registry"
	"github.com/switchyard/switchyard/sqlstore"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

const upstreamKey = "sk-health-upstream-0123456789abcdef"

// unit shortens the providers' intervals: health_check_interval_s 10 is
// 100 ms here.
const unit = 10 * time.Millisecond

// replica is one process's monitor over a database.
type replica struct {
	db      *sqlstore.DB
	reg     *registry.Registry
	mon     *health.Monitor
	mu      sync.Mutex
	events  []health.StatusEvent
	changes []health.Transition
}

func newReplica(t *testing.T, db *sqlstore.DB, tweak func(*health.Config)) *replica {
	t.Helper()
	pol, err := netguard.NewPolicy([]string{"127.0.0.1/32"})
	if err != nil {
		t.Fatal(err)
	}
	f := &protocols.Factory{HTTP: pol.Client(netguard.ClientOptions{}), TokenHTTP: pol.Client(netguard.ClientOptions{})}
	r := &replica{db: db, reg: registry.New(registry.Config{Source: db, NewAdapter: f.New})}
	if err := r.reg.Reload(t.Context(), "start"); err != nil {
		t.Fatal(err)
	}
	cfg := health.Config{Store: db, Registry: r.reg, IntervalUnit: unit, Tick: 10 * time.Millisecond, ElectEvery: 50 * time.Millisecond,
		Publish: func(typ string, _ bool, data any) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.events = append(r.events, data.(health.StatusEvent))
		},
		OnChange: func(tr health.Transition) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.changes = append(r.changes, tr)
		}}
	if tweak != nil {
		tweak(&cfg)
	}
	r.mon = health.New(cfg)
	return r
}

// start runs the monitor until the test ends (or stop is called).
func (r *replica) start(t *testing.T) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.mon.Run(ctx)
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func addProvider(t *testing.T, r *replica, slug, baseURL string, s switchyard.ProviderSettings) *switchyard.Provider {
	t.Helper()
	p := &switchyard.Provider{Name: slug, Slug: slug, Protocol: switchyard.ProtocolOpenAI, BaseURL: baseURL, Enabled: true, Settings: s,
		Credentials: []switchyard.Credential{{Name: "k", Method: switchyard.AuthAPIKey,
			Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret(upstreamKey)}}}}
	if err := r.db.CreateProvider(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	if err := r.reg.Reload(t.Context(), "provider added"); err != nil {
		t.Fatal(err)
	}
	return p
}

func upstream(t *testing.T) (*fake.OpenAI, string) {
	f := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{upstreamKey}})
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL + "/v1"
}

func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func storedStatus(t *testing.T, db *sqlstore.DB, id string) switchyard.ProviderStatus {
	p, err := db.GetProvider(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p.Status
}

func TestProviderGoesDownAfterFailuresAndRecovers(t *testing.T) {
	r := newReplica(t, storetest.SQLite().Open(t), nil)
	up, base := upstream(t)
	p := addProvider(t, r, "flaky", base, switchyard.ProviderSettings{HealthCheckIntervalS: 10})
	r.start(t)
	waitFor(t, "healthy", 2*time.Second, func() bool { return storedStatus(t, r.db, p.ID) == switchyard.StatusHealthy })

	up.SetFault(fake.Status(http.StatusServiceUnavailable))
	waitFor(t, "down", 3*time.Second, func() bool { return storedStatus(t, r.db, p.ID) == switchyard.StatusDown })
	if got := r.mon.Machine().Status(p.ID); got != switchyard.StatusDown {
		t.Fatalf("the gateway sees %q", got)
	}
	up.ClearFaults()
	waitFor(t, "recovered", 3*time.Second, func() bool { return storedStatus(t, r.db, p.ID) == switchyard.StatusHealthy })

	changes, err := r.db.ListStatusChanges(t.Context(), p.ID, switchyard.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var path []string
	for i := len(changes.Items) - 1; i >= 0; i-- {
		path = append(path, string(changes.Items[i].To))
	}
	want := []string{"healthy", "degraded", "down", "healthy"}
	if len(path) != len(want) {
		t.Fatalf("status path %v, want %v", path, want)
	}
	for i := range want {
		if path[i] != want[i] {
			t.Fatalf("status path %v, want %v", path, want)
		}
	}
	if c := changes.Items[1]; c.Reason != "3 health checks in a row failed (last: unavailable)" {
		t.Fatalf("down reason = %q", c.Reason)
	}
	if c := changes.Items[0]; c.Reason != "2 health checks in a row succeeded" {
		t.Fatalf("recovery reason = %q", c.Reason)
	}
	checks, err := r.db.ListHealthChecks(t.Context(), p.ID, switchyard.ListOptions{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, c := range checks.Items {
		if !c.OK {
			failed++
			if c.Code != "unavailable" {
				t.Fatalf("failed check code %q", c.Code)
			}
		}
	}
	if failed < 3 {
		t.Fatalf("%d failed checks stored, want at least 3", failed)
	}
	// Every change was announced, in order, with the provider's slug.
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) != 4 || r.events[2].To != switchyard.StatusDown || r.events[2].Slug != "flaky" || len(r.changes) != 4 {
		t.Fatalf("events %+v", r.events)
	}
}

// TestOptedOutProviderIsNeverCalled: health checks cost money on some
// providers; one that opts out gets no request at all.
func TestOptedOutProviderIsNeverCalled(t *testing.T) {
	r := newReplica(t, storetest.SQLite().Open(t), nil)
	quiet, quietURL := upstream(t)
	checked, checkedURL := upstream(t)
	addProvider(t, r, "opted-out", quietURL, switchyard.ProviderSettings{HealthCheckDisabled: true, HealthCheckIntervalS: 10})
	addProvider(t, r, "checked", checkedURL, switchyard.ProviderSettings{HealthCheckIntervalS: 10})
	r.start(t)
	waitFor(t, "three checks of the other provider", 3*time.Second, func() bool { return checked.RequestCount() >= 3 })
	if n := quiet.RequestCount(); n != 0 {
		t.Fatalf("the opted-out provider got %d requests", n)
	}
}

func TestChecksOff(t *testing.T) {
	r := newReplica(t, storetest.SQLite().Open(t), func(c *health.Config) { c.DisableChecks = true })
	up, base := upstream(t)
	addProvider(t, r, "unchecked", base, switchyard.ProviderSettings{HealthCheckIntervalS: 10})
	r.start(t)
	time.Sleep(300 * time.Millisecond)
	if n := up.RequestCount(); n != 0 {
		t.Fatalf("with checks off the provider got %d requests", n)
	}
}

// TestSlowChecksDoNotPileUp: a check still running is not started again,
// however short the interval.
func TestSlowChecksDoNotPileUp(t *testing.T) {
	r := newReplica(t, storetest.SQLite().Open(t), nil)
	up, base := upstream(t)
	var inFlight, most atomic.Int32
	slow := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(300 * time.Millisecond)
		up.ServeHTTP(w, req)
	})
	srv := httptest.NewServer(slow)
	t.Cleanup(srv.Close)
	_ = base
	p := addProvider(t, r, "slow", srv.URL+"/v1", switchyard.ProviderSettings{HealthCheckIntervalS: 10})
	r.start(t)
	time.Sleep(time.Second)
	if most.Load() != 1 {
		t.Fatalf("%d checks of one provider ran at once", most.Load())
	}
	if n := up.RequestCount(); n < 2 || n > 4 {
		t.Fatalf("%d checks in 1 s of 300 ms checks every 100 ms; want 2 to 4", n)
	}
	checks, _ := r.db.ListHealthChecks(t.Context(), p.ID, switchyard.ListOptions{})
	if len(checks.Items) == 0 || checks.Items[len(checks.Items)-1].LatencyMS < 300 {
		t.Fatalf("checks = %+v", checks.Items)
	}
}

func TestCheckNow(t *testing.T) {
	r := newReplica(t, storetest.SQLite().Open(t), func(c *health.Config) { c.DisableChecks = true })
	up, base := upstream(t)
	p := addProvider(t, r, "on-demand", base, switchyard.ProviderSettings{})
	up.SetFault(fake.Status(http.StatusUnauthorized))
	hc, err := r.mon.CheckNow(t.Context(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if hc.OK || hc.Code != "auth_failed" || hc.ProviderID != p.ID || hc.ID == "" {
		t.Fatalf("check = %+v", hc)
	}
	if _, err := r.mon.CheckNow(t.Context(), "00000000-0000-0000-0000-000000000000"); switchyard.ErrorCode(err) != switchyard.ECONFLICT {
		t.Fatalf("checking an unknown provider: %v", err)
	}
}

// TestLeaderElectionOnPostgres: two replicas on one database; exactly one
// runs the checks. When the leader's connection dies, the other takes over
// within one election interval.
func TestLeaderElectionOnPostgres(t *testing.T) {
	base := storetest.PostgresURL(t)
	open := func(name string) *sqlstore.DB {
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("application_name", name)
		u.RawQuery = q.Encode()
		db, err := sqlstore.Open(context.Background(), u.String(), sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if _, err := db.MigrateUp(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := db.LoadKeyring(context.Background(), storetest.MasterKey(t)); err != nil {
			t.Fatal(err)
		}
		return db
	}
	suffix := time.Now().Format("150405.000000")
	dbA, dbB := open("replica-a-"+suffix), open("replica-b-"+suffix)
	var aDead atomic.Bool
	elect := func(db *sqlstore.DB, dead *atomic.Bool) func(ctx context.Context) (health.Lease, bool, error) {
		return func(ctx context.Context) (health.Lease, bool, error) {
			if dead != nil && dead.Load() {
				return nil, false, context.DeadlineExceeded
			}
			l, ok, err := db.TryLead(ctx, "health")
			return l, ok, err
		}
	}
	up, upURL := upstream(t)
	a := newReplica(t, dbA, func(c *health.Config) { c.Elect = elect(dbA, &aDead) })
	p := addProvider(t, a, "shared", upURL, switchyard.ProviderSettings{HealthCheckIntervalS: 10})
	a.start(t)
	waitFor(t, "replica a to lead", 2*time.Second, a.mon.Leader)
	b := newReplica(t, dbB, func(c *health.Config) { c.Elect = elect(dbB, nil) })
	b.start(t)
	// b follows the status a decides.
	waitFor(t, "replica b to follow a's status", 2*time.Second, func() bool { return b.mon.Machine().Status(p.ID) == switchyard.StatusHealthy })
	time.Sleep(200 * time.Millisecond)
	if b.mon.Leader() {
		t.Fatal("both replicas lead")
	}
	checksBefore := up.RequestCount()

	// Replica a's connections die.
	aDead.Store(true)
	if _, err := dbB.SQL().Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, "replica-a-"+suffix); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	waitFor(t, "replica b to take over", 2*time.Second, b.mon.Leader)
	if took := time.Since(start); took > 10*50*time.Millisecond {
		t.Fatalf("take-over took %s", took)
	}
	waitFor(t, "replica a to notice", time.Second, func() bool { return !a.mon.Leader() })
	waitFor(t, "replica b's checks", 2*time.Second, func() bool { return up.RequestCount() >= checksBefore+2 })
}
