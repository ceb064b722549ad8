// loadgen: tiny HTTP load generator for OpenAI-style chat completions (stdlib only).
// Closed loop (-c workers) or open loop (-rate, latency measured from the intended send time).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type sample struct{ total, ttfb time.Duration }

func main() {
	target := flag.String("url", "http://127.0.0.1:18000/v1/chat/completions", "endpoint")
	conc := flag.Int("c", 1, "closed-loop workers (ignored with -rate)")
	dur := flag.Duration("d", 0, "measure duration (0 = use -n)")
	n := flag.Int("n", 1000, "requests to measure when -d is 0")
	warm := flag.Int("warmup", 200, "requests before measuring (not recorded)")
	rate := flag.Float64("rate", 0, "open-loop requests/s (0 = closed loop)")
	model := flag.String("model", "gpt-4o-mini", "model field")
	key := flag.String("key", "sk-client", "bearer key sent by the client")
	stream := flag.Bool("stream", false, "stream=true; also records time to first body byte")
	label := flag.String("label", "run", "label printed with the result")
	jsonOut := flag.Bool("json", false, "print one JSON object instead of text")
	chunkCheck := flag.Bool("chunkcheck", false, "serial streams (-n of them): count SSE events and how many arrived at least -gap after the previous one")
	gap := flag.Duration("gap", 10*time.Millisecond, "with -chunkcheck: the pause that marks an event as sent on its own")
	flag.Parse()
	if *chunkCheck {
		checkChunks(*target, *key, *model, *label, *n, *gap)
		return
	}

	body := []byte(fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"Say hello in one short sentence."}],"stream":%v}`, *model, *stream))
	workers := *conc
	if *rate > 0 {
		workers = 20000
	}
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        workers,
		MaxIdleConnsPerHost: workers,
		DisableCompression:  true,
	}}
	var errs, non200 atomic.Int64
	var errOnce sync.Once
	logErr := func(e error) { errOnce.Do(func() { fmt.Fprintln(os.Stderr, "first error:", e) }) }
	one := func() (sample, bool) {
		start := time.Now()
		req, _ := http.NewRequest(http.MethodPost, *target, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+*key)
		resp, err := client.Do(req)
		if err != nil {
			errs.Add(1)
			logErr(err)
			return sample{}, false
		}
		var s sample
		buf := make([]byte, 32*1024)
		first := true
		for {
			k, rerr := resp.Body.Read(buf)
			if k > 0 && first {
				s.ttfb = time.Since(start)
				first = false
			}
			if rerr != nil {
				if rerr != io.EOF {
					errs.Add(1)
					logErr(rerr)
				}
				break
			}
		}
		resp.Body.Close()
		s.total = time.Since(start)
		if resp.StatusCode != 200 {
			non200.Add(1)
			return s, false
		}
		return s, true
	}
	// warmup (sequential-ish, using up to conc workers)
	{
		var wg sync.WaitGroup
		var left atomic.Int64
		left.Store(int64(*warm))
		wc := *conc
		if wc < 1 {
			wc = 1
		}
		for i := 0; i < wc; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for left.Add(-1) >= 0 {
					one()
				}
			}()
		}
		wg.Wait()
		errs.Store(0)
		non200.Store(0)
	}

	var mu sync.Mutex
	all := make([]sample, 0, 1<<16)
	begin := time.Now()
	deadline := begin.Add(*dur)
	if *rate <= 0 {
		var left atomic.Int64
		left.Store(int64(*n))
		var wg sync.WaitGroup
		for i := 0; i < *conc; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				local := make([]sample, 0, 4096)
				for {
					if *dur > 0 {
						if time.Now().After(deadline) {
							break
						}
					} else if left.Add(-1) < 0 {
						break
					}
					if s, ok := one(); ok {
						local = append(local, s)
					}
				}
				mu.Lock()
				all = append(all, local...)
				mu.Unlock()
			}()
		}
		wg.Wait()
	} else {
		interval := time.Duration(float64(time.Second) / *rate)
		total := *n
		if *dur > 0 {
			total = int(dur.Seconds() * *rate)
		}
		var wg sync.WaitGroup
		for i := 0; i < total; i++ {
			intended := begin.Add(time.Duration(i) * interval)
			if d := time.Until(intended); d > 0 {
				time.Sleep(d)
			}
			wg.Add(1)
			go func(intended time.Time) {
				defer wg.Done()
				lag := time.Since(intended) // coordinated-omission correction
				if s, ok := one(); ok {
					s.total += lag
					if s.ttfb > 0 {
						s.ttfb += lag
					}
					mu.Lock()
					all = append(all, s)
					mu.Unlock()
				}
			}(intended)
		}
		wg.Wait()
	}
	elapsed := time.Since(begin)
	tot := make([]time.Duration, len(all))
	tf := make([]time.Duration, 0, len(all))
	var sum time.Duration
	for i, s := range all {
		tot[i] = s.total
		sum += s.total
		if s.ttfb > 0 {
			tf = append(tf, s.ttfb)
		}
	}
	sort.Slice(tot, func(i, j int) bool { return tot[i] < tot[j] })
	sort.Slice(tf, func(i, j int) bool { return tf[i] < tf[j] })
	pct := func(v []time.Duration, p float64) float64 {
		if len(v) == 0 {
			return 0
		}
		i := int(p * float64(len(v)-1))
		return float64(v[i].Microseconds()) / 1000
	}
	mean := 0.0
	if len(tot) > 0 {
		mean = float64(sum.Microseconds()) / 1000 / float64(len(tot))
	}
	res := map[string]any{
		"label": *label, "ok": len(tot), "errors": errs.Load(), "non200": non200.Load(),
		"rps": float64(len(tot)) / elapsed.Seconds(), "mean_ms": mean,
		"p50_ms": pct(tot, .50), "p90_ms": pct(tot, .90), "p99_ms": pct(tot, .99), "p999_ms": pct(tot, .999), "max_ms": pct(tot, 1),
	}
	if *stream {
		res["ttfb_p50_ms"] = pct(tf, .50)
		res["ttfb_p99_ms"] = pct(tf, .99)
	}
	if *jsonOut {
		json.NewEncoder(os.Stdout).Encode(res)
		return
	}
	fmt.Printf("%-10s ok=%d err=%d non200=%d rps=%.0f mean=%.3fms p50=%.3fms p90=%.3fms p99=%.3fms max=%.3fms",
		*label, len(tot), errs.Load(), non200.Load(), res["rps"], mean, res["p50_ms"], res["p90_ms"], res["p99_ms"], res["max_ms"])
	if *stream {
		fmt.Printf(" ttfb_p50=%.3fms ttfb_p99=%.3fms", res["ttfb_p50_ms"], res["ttfb_p99_ms"])
	}
	fmt.Println()
}

// checkChunks sends n streaming requests one after another and reports,
// per request, how many SSE events arrived and how many of them came at
// least gap after the previous one. Against an upstream that pauses
// between chunks, a proxy that forwards chunks one by one keeps the
// pauses; one that buffers merges them.
func checkChunks(target, key, model, label string, n int, gap time.Duration) {
	body := []byte(fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"Say hello in one short sentence."}],"stream":true}`, model))
	var events, spaced, bad int
	for i := 0; i < n; i++ {
		req, _ := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Fprintln(os.Stderr, "chunkcheck:", err)
			bad++
			continue
		}
		if resp.StatusCode != 200 {
			bad++
		}
		rd := bufio.NewReader(resp.Body)
		var last time.Time
		for {
			line, err := rd.ReadString('\n')
			if strings.HasPrefix(line, "data: ") {
				now := time.Now()
				if !last.IsZero() && now.Sub(last) >= gap {
					spaced++
				}
				last = now
				events++
			}
			if err != nil {
				break
			}
		}
		resp.Body.Close()
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{"test": "chunks", "label": label, "requests": n, "failed": bad,
		"events_per_req": float64(events) / float64(n), "spaced_per_req": float64(spaced) / float64(n), "gap_ms": gap.Milliseconds()})
}
