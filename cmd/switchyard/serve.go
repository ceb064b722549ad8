package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/alert"
	"github.com/switchyard/switchyard/analytics"
	"github.com/switchyard/switchyard/catalog"
	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/control"
	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/gateway"
	"github.com/switchyard/switchyard/health"
	"github.com/switchyard/switchyard/httpapi"
	"github.com/switchyard/switchyard/metrics"
	"github.com/switchyard/switchyard/netguard"
	"github.com/switchyard/switchyard/probe"
	"github.com/switchyard/switchyard/provider"
	"github.com/switchyard/switchyard/provider/protocols"
	"github.com/switchyard/switchyard/registry"
	"github.com/switchyard/switchyard/transfer"
	"github.com/switchyard/switchyard/web"
)

// serve runs the control plane until ctx is cancelled, then shuts down
// gracefully: readiness turns false, in-flight requests get up to the
// shutdown timeout to finish, then the database is closed.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout io.Writer) error {
	started := time.Now()
	log.Info("starting switchyard", "version", version, "settings", cfg)
	db, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := db.Close(); err != nil {
			log.Error("closing the database", "error", err)
		}
	}()
	if n, backup, err := migrateUp(ctx, cfg, db, log, true); err != nil {
		return err
	} else if n > 0 {
		args := []any{"applied", n, "dialect", db.Dialect()}
		if backup != nil {
			args = append(args, "backup_before", backup.Name)
		}
		log.Info("database migrated", args...)
	}
	mk, err := loadMasterKey(cfg, log)
	if err != nil {
		return err
	}
	if _, err := db.LoadKeyring(ctx, mk); err != nil {
		return err
	}
	cat, err := catalog.Load()
	if err != nil {
		return fmt.Errorf("load the built-in catalog: %w", err)
	}
	seeded, err := cat.Seed(ctx, db)
	if err != nil {
		return fmt.Errorf("seed the built-in catalog: %w", err)
	}
	if seeded.Changed() {
		log.Info("built-in catalog seeded", "catalog_version", cat.Version, "templates_created", len(seeded.TemplatesCreated),
			"templates_updated", len(seeded.TemplatesUpdated), "system_providers_created", len(seeded.ProvidersCreated))
	}
	for _, s := range seeded.Skipped {
		log.Warn("built-in catalog: left alone", "reason", s)
	}

	// Every call to an admin-supplied URL goes through the SSRF guard.
	policy, err := netguard.NewPolicy(cfg.OutboundAllow)
	if err != nil {
		return fmt.Errorf("SWITCHYARD_OUTBOUND_ALLOW: %w", err)
	}
	adapters := &protocols.Factory{
		HTTP:      policy.Client(netguard.ClientOptions{}),
		TokenHTTP: policy.Client(netguard.ClientOptions{Timeout: 30 * time.Second}),
	}
	tester := &probe.Tester{Policy: policy, NewAdapter: adapters.New}
	// Background work (session pruning, benchmark runs, the registry's
	// watch) ends with bg; on the way out the runs are waited for, so that
	// their results are stored before the database closes.
	bg, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	// The registry is what the gateway routes by; changes made through the
	// control plane rebuild it at once, and other replicas' changes arrive
	// by notification (PostgreSQL) or the periodic version check.
	// Live events (GET /api/v1/events): status changes and registry
	// rebuilds; producers never wait on slow readers.
	broker := events.New(events.Config{})
	reg := registry.New(registry.Config{Source: db, NewAdapter: adapters.New, Logger: log, OnReload: func(s *registry.Snapshot) {
		broker.Publish(events.TypeRegistry, true, registryEvent{Version: s.Version, StoreVersion: s.StoreVersion, Reason: s.Reason,
			Providers: len(s.Providers), Models: s.Models})
	}})
	if err := reg.Reload(ctx, "start-up"); err != nil {
		return fmt.Errorf("load the registry: %w", err)
	}
	backups := newBackups(cfg, db, log)
	// Usage history: rollups built in the background, reports and
	// recommendations answered from them.
	retention := analytics.Retention{Raw: cfg.RetentionRaw, Minute: cfg.RetentionMinute, Hour: cfg.RetentionHour, Day: cfg.RetentionDay}
	reader := analytics.NewReader(analytics.ReaderConfig{Store: db, Inventory: db, Health: db, Retention: retention})
	// The health monitor checks the providers (on one replica: the one
	// holding the PostgreSQL advisory lock) and keeps their status, which
	// the gateway reads and feeds with every call's outcome.
	machine := health.NewMachine(nil)
	var gw atomic.Pointer[gateway.Gateway]
	elector := db.Elector("health")
	defer elector.Close()
	monitor := health.New(health.Config{Store: db, Registry: reg, Machine: machine, Logger: log, Publish: broker.Publish,
		Elect: func(ctx context.Context) (health.Lease, bool, error) { return elector.TryLead(ctx) },
		OnChange: func(t health.Transition) {
			if g := gw.Load(); g != nil {
				g.HealthChanged(t.ProviderID, t.From, t.To)
			}
		},
		DisableChecks: !cfg.HealthChecks, Concurrency: cfg.HealthConcurrency, Timeout: cfg.HealthTimeout, Retention: cfg.HealthRetention})
	// The rollups are built by that replica too: each would build the same
	// rows, so the others need not read the events as well.
	roller, err := analytics.NewRoller(analytics.RollerConfig{Store: db, Health: db, Retention: retention, Logger: log,
		Leader: monitor.Leader})
	if err != nil {
		return err
	}
	// Alerts are evaluated and sent by the replica that leads the health
	// checks, so several replicas send one message.
	alerts := alert.New(alert.Config{Store: db, Usage: reader, Policy: policy, Leader: monitor.Leader, Logger: log,
		Every: cfg.AlertInterval, Attempts: cfg.AlertAttempts, Retention: cfg.AlertRetention})
	ctl, err := control.New(control.Config{Store: reg.Track(db), Catalog: cat, Logger: log, Tester: tester, Registry: reg,
		Backups: backups, Analytics: reader, Health: monitor, Alerter: alerts, Background: bg, Adapters: func(p *switchyard.Provider, cred switchyard.Credential) (provider.Adapter, error) {
			return adapters.New(p, cred, nil)
		}})
	if err != nil {
		return err
	}
	defer func() {
		stopBackground()
		ctl.Wait()
	}()
	boot, err := ctl.Bootstrap(ctx, cfg.AdminToken.Reveal())
	if err != nil {
		return fmt.Errorf("create the first admin: %w", err)
	}
	if boot.Created {
		log.Info("created the first admin user", "username", boot.Username, "api_token", boot.Token)
	}
	if boot.Password != "" {
		// Printed once, to stdout only: the log never holds it.
		fmt.Fprintf(stdout, "First start: log in as %q with this one-time password (it is not shown again): %s\n", boot.Username, boot.Password)
	}

	go ctl.PruneSessions(bg, 10*time.Minute)
	go reg.Watch(bg, db, db.Listen, 5*time.Second)
	if cfg.BackupInterval > 0 {
		// One replica takes them: the one holding the "backups" lease.
		backupElector := db.Elector("backups")
		defer backupElector.Close()
		go backups.Run(bg, cfg.BackupInterval, func(ctx context.Context) (transfer.Lease, bool, error) {
			return backupElector.TryLead(ctx)
		})
	}
	rollerDone := make(chan struct{})
	go func() {
		defer close(rollerDone)
		roller.Run(bg)
	}()
	defer func() {
		stopBackground()
		<-rollerDone
	}()
	alertsDone := make(chan struct{})
	go func() {
		defer close(alertsDone)
		alerts.Run(bg)
	}()
	defer func() {
		stopBackground()
		<-alertsDone
	}()
	monitorDone := make(chan struct{})
	go func() {
		defer close(monitorDone)
		monitor.Run(bg)
	}()
	defer func() {
		stopBackground()
		<-monitorDone
	}()

	var ready atomic.Bool
	// Usage is recorded off the request path, in batches; whatever is
	// queued when the server stops is written before the database closes.
	// Small batches spread the writing: a 500-event batch held the CPU for
	// ~10 ms at a time and showed in the gateway's p99 under load.
	usage := analytics.NewRecorder(analytics.RecorderConfig{Store: db, Logger: log, BatchSize: 100, FlushEvery: 250 * time.Millisecond})
	usageDone := make(chan struct{})
	go func() {
		defer close(usageDone)
		usage.Run(bg)
	}()
	defer func() {
		stopBackground()
		<-usageDone
		fctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := usage.Close(fctx); err != nil {
			log.Error("writing the last usage records", "error", err)
		}
		log.Info("usage recorded", "written", usage.Written(), "dropped", usage.Dropped(), "failed", usage.Failed())
	}()
	// Every usage event also feeds the Prometheus series (a few atomic
	// adds) on its way to the recorder's queue.
	gwMetrics := metrics.NewGateway(reg)
	record := func(e switchyard.UsageEvent) {
		gwMetrics.Observe(&e)
		usage.Record(e)
	}
	gwh := gateway.New(gateway.Config{Registry: reg, Logger: log, Record: record, Spend: db, Health: machine})
	gw.Store(gwh)
	// Live event streams end when shutdown begins, not at its deadline.
	streams, endStreams := context.WithCancel(context.Background())
	defer endStreams()
	handler, err := httpapi.NewServer(httpapi.Config{Logger: log, DB: db, Ready: ready.Load, Control: ctl, Gateway: gwh,
		Metrics:      metrics.Handler(metrics.Config{Usage: usage, Registry: reg, Gateway: gwMetrics, DB: db.SQL(), Health: machine}),
		MaxBodyBytes: cfg.MaxBodyBytes, SecureCookies: cfg.TLS(), Events: broker, Streams: streams, Web: web.Handler()})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (SWITCHYARD_ADDR, -addr): %w", cfg.Addr, err)
	}
	// Requests see baseCtx; it is cancelled when the shutdown deadline
	// passes, so long-lived streams end instead of holding the process.
	baseCtx, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() {
		if cfg.TLS() {
			errc <- srv.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	ready.Store(true)
	scheme := "http"
	if cfg.TLS() {
		scheme = "https"
	}
	url := scheme + "://" + ln.Addr().String()
	log.Info("switchyard is ready", "url", url, "startup", time.Since(started).Round(time.Millisecond))
	fmt.Fprintf(stdout, "Switchyard is ready at %s\n", url)

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	ready.Store(false)
	endStreams()
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	stop := context.AfterFunc(sctx, cancelBase)
	defer stop()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	} else if err != nil {
		log.Warn("shutdown deadline passed; remaining requests were cut off", "timeout", cfg.ShutdownTimeout)
		_ = srv.Close()
	}
	log.Info("stopped")
	return nil
}

// registryEvent is the data of a registry.changed event.
type registryEvent struct {
	Version      uint64 `json:"version"`
	StoreVersion int64  `json:"store_version"`
	Reason       string `json:"reason"`
	Providers    int    `json:"providers"`
	Models       int    `json:"models"`
}
