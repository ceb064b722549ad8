// Package metrics exposes Switchyard's Prometheus metrics at /metrics:
// gateway requests, latency, tokens, cost and errors (fed from the usage
// events, see Gateway), the usage recording (recorded, written, dropped,
// failed, queued), the registry's state (snapshot version, providers,
// models, connections, load errors, staleness), each provider's health
// status, the database pool, plus the Go runtime and process.
package metrics

import (
	"database/sql"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/registry"
)

// UsageCounters is what the usage recorder reports.
type UsageCounters interface {
	Recorded() uint64
	Written() uint64
	Dropped() uint64
	Failed() uint64
	Queued() int
}

// Config names the sources of the metrics; nil ones are left out.
type Config struct {
	Usage    UsageCounters
	Registry *registry.Registry
	// Gateway counts gateway requests; feed it the usage events.
	Gateway *Gateway
	// DB is the database pool, for its connection statistics.
	DB *sql.DB
	// Health gives each routable provider's status (needs Registry).
	Health HealthStatus
}

// HealthStatus is the provider status machine (*health.Machine and the
// monitor's leadership).
type HealthStatus interface {
	Status(providerID string) switchyard.ProviderStatus
}

// statuses are the values of switchyard_provider_status's status label.
var statuses = []switchyard.ProviderStatus{switchyard.StatusUnknown, switchyard.StatusHealthy, switchyard.StatusDegraded, switchyard.StatusDown}

// providerStatus exports one series per provider and status, 1 for the
// current one: switchyard_provider_status{provider="openai-prod",status="down"} 1.
type providerStatus struct {
	reg    *registry.Registry
	health HealthStatus
	desc   *prometheus.Desc
}

func (c providerStatus) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c providerStatus) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.reg.Current().Providers {
		cur := c.health.Status(p.ID)
		for _, s := range statuses {
			v := 0.0
			if s == cur {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, p.Slug, string(s))
		}
	}
}

// Handler returns the /metrics handler over a registry of its own (no
// global state).
func Handler(cfg Config) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if cfg.Usage != nil {
		u := cfg.Usage
		reg.MustRegister(
			counterFunc("switchyard_usage_events_recorded_total", "Usage events handed to the recorder.", func() float64 { return float64(u.Recorded()) }),
			counterFunc("switchyard_usage_events_written_total", "Usage events written to the database.", func() float64 { return float64(u.Written()) }),
			counterFunc("switchyard_usage_events_dropped_total", "Usage events dropped because the queue was full or the recorder closed.", func() float64 { return float64(u.Dropped()) }),
			counterFunc("switchyard_usage_events_failed_total", "Usage events that could not be written after retries, or were invalid.", func() float64 { return float64(u.Failed()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "switchyard_usage_events_queued", Help: "Usage events waiting to be written."},
				func() float64 { return float64(u.Queued()) }),
		)
	}
	if cfg.Gateway != nil {
		reg.MustRegister(cfg.Gateway.collector...)
	}
	if cfg.DB != nil {
		reg.MustRegister(collectors.NewDBStatsCollector(cfg.DB, "switchyard"))
	}
	if r := cfg.Registry; r != nil {
		gauge := func(name, help string, fn func(s *registry.Snapshot) float64) prometheus.Collector {
			return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return fn(r.Current()) })
		}
		reg.MustRegister(
			gauge("switchyard_registry_snapshot_version", "The registry snapshot's number on this replica.", func(s *registry.Snapshot) float64 { return float64(s.Version) }),
			gauge("switchyard_registry_store_version", "The configuration change version the snapshot was built from.", func(s *registry.Snapshot) float64 { return float64(s.StoreVersion) }),
			gauge("switchyard_registry_providers", "Providers the gateway can route to.", func(s *registry.Snapshot) float64 { return float64(len(s.Providers)) }),
			gauge("switchyard_registry_models", "Models the gateway can route to.", func(s *registry.Snapshot) float64 { return float64(s.Models) }),
			gauge("switchyard_registry_connections", "Enabled connections.", func(s *registry.Snapshot) float64 { return float64(s.Connections) }),
			gauge("switchyard_registry_load_errors", "Providers or credentials left out of the snapshot.", func(s *registry.Snapshot) float64 { return float64(len(s.Errors)) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "switchyard_registry_stale", Help: "1 while reloads fail and the last good snapshot serves."},
				func() float64 {
					if _, _, stale := r.Stale(); stale {
						return 1
					}
					return 0
				}),
		)
	}
	if cfg.Registry != nil && cfg.Health != nil {
		reg.MustRegister(providerStatus{reg: cfg.Registry, health: cfg.Health, desc: prometheus.NewDesc("switchyard_provider_status",
			"Each routable provider's health status: 1 for the current one.", []string{"provider", "status"}, nil)})
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

func counterFunc(name, help string, fn func() float64) prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, fn)
}
