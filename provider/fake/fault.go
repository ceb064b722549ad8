package fake

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultKind says what a [Fault] does to a request.
type FaultKind string

// The kinds of fault. A Fault with no Kind and a Latency only delays.
const (
	// FaultStatus answers with Fault.Status and the protocol's error body.
	FaultStatus FaultKind = "status"
	// FaultMalformed answers 200 with a body that is not valid JSON (a
	// truncated document; in a stream, event number Fault.After).
	FaultMalformed FaultKind = "malformed"
	// FaultCut closes the connection mid-response: a stream after
	// Fault.After events, a JSON body half-way through.
	FaultCut FaultKind = "cut"
	// FaultStall stops sending (after Fault.After events, or half-way through
	// a JSON body) and keeps the connection open until the client gives up or
	// Options.StallLimit passes.
	FaultStall FaultKind = "stall"
)

// FaultHeader is the request header that injects a fault into that request
// alone, in the syntax of [ParseFault].
const FaultHeader = "X-Fake-Fault"

// Fault is one injected failure. The zero Fault does nothing.
type Fault struct {
	Kind FaultKind
	// Status is the HTTP status of a FaultStatus (401, 403, 404, 429, 500,
	// 503, 529, …); the body is the protocol's error shape for that status.
	Status int
	// RetryAfter sets the Retry-After header (whole seconds, rounded up).
	// A 429 without it still carries "Retry-After: 1", as the real services do.
	RetryAfter time.Duration
	// Message replaces the default error message of a FaultStatus.
	Message string
	// Latency is added before the request is answered; it combines with any
	// kind.
	Latency time.Duration
	// After is the number of stream events sent before a cut, a stall or a
	// malformed event.
	After int
	// Path, when set, limits the fault to requests whose URL path ends with
	// it (for example "/chat/completions", leaving "/models" healthy).
	Path string
}

// Status returns a fault that answers with the given HTTP status.
func Status(code int) Fault { return Fault{Kind: FaultStatus, Status: code} }

// RateLimit returns a 429 fault with the given Retry-After.
func RateLimit(retryAfter time.Duration) Fault {
	return Fault{Kind: FaultStatus, Status: 429, RetryAfter: retryAfter}
}

// Malformed returns a fault that answers with invalid JSON.
func Malformed() Fault { return Fault{Kind: FaultMalformed} }

// Cut returns a fault that closes the connection after n stream events.
func Cut(after int) Fault { return Fault{Kind: FaultCut, After: after} }

// Stall returns a fault that stops sending after n stream events but keeps
// the connection open.
func Stall(after int) Fault { return Fault{Kind: FaultStall, After: after} }

// Slow returns a fault that only adds latency.
func Slow(d time.Duration) Fault { return Fault{Latency: d} }

func (f Fault) active() bool { return f.Kind != "" || f.Latency > 0 }

func (f Fault) matches(path string) bool { return f.Path == "" || strings.HasSuffix(path, f.Path) }

// String gives the fault in the X-Fake-Fault syntax.
func (f Fault) String() string {
	var parts []string
	switch f.Kind {
	case FaultStatus:
		parts = append(parts, "status="+strconv.Itoa(f.Status))
	case FaultMalformed, FaultCut, FaultStall:
		parts = append(parts, string(f.Kind)+"="+strconv.Itoa(f.After))
	}
	if f.RetryAfter > 0 {
		parts = append(parts, "retry-after="+f.RetryAfter.String())
	}
	if f.Latency > 0 {
		parts = append(parts, "latency="+f.Latency.String())
	}
	if f.Path != "" {
		parts = append(parts, "path="+f.Path)
	}
	return strings.Join(parts, ", ")
}

// ParseFault reads the X-Fake-Fault header syntax: items separated by commas
// or semicolons, each one of
//
//	429 | status=429       answer with that status
//	retry-after=2 | =1500ms  Retry-After (bare numbers are seconds)
//	latency=150ms          delay before answering
//	malformed[=N]          invalid JSON (in a stream: event N, default 0)
//	cut[=N]                close the connection after N events (default 0)
//	stall[=N]              stop sending after N events (default 0)
//	message=text           error message of a status fault
//	path=/suffix           apply only to paths with that suffix
//
// For example "429, retry-after=2" or "cut=3" or "latency=50ms; 503".
func ParseFault(s string) (Fault, error) {
	var f Fault
	for item := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == ',' || r == ';' }) {
		key, val, hasVal := strings.Cut(strings.TrimSpace(item), "=")
		key = strings.ToLower(strings.TrimSpace(key))
		val = strings.TrimSpace(val)
		if key == "" {
			continue
		}
		if code, err := strconv.Atoi(key); err == nil && !hasVal {
			key, val = "status", strconv.Itoa(code)
		}
		switch key {
		case "status":
			code, err := strconv.Atoi(val)
			if err != nil || code < 100 || code > 599 {
				return Fault{}, fmt.Errorf("fake: bad status %q in fault %q", val, s)
			}
			f.Kind, f.Status = FaultStatus, code
		case "retry-after":
			d, err := parseSeconds(val)
			if err != nil {
				return Fault{}, fmt.Errorf("fake: bad retry-after %q in fault %q", val, s)
			}
			f.RetryAfter = d
		case "latency", "delay":
			d, err := parseSeconds(val)
			if err != nil {
				return Fault{}, fmt.Errorf("fake: bad latency %q in fault %q", val, s)
			}
			f.Latency = d
		case "malformed", "cut", "stall":
			f.Kind = FaultKind(key)
			if hasVal {
				n, err := strconv.Atoi(val)
				if err != nil || n < 0 {
					return Fault{}, fmt.Errorf("fake: bad event count %q in fault %q", val, s)
				}
				f.After = n
			}
		case "message":
			f.Message = val
		case "path":
			f.Path = val
		default:
			return Fault{}, fmt.Errorf("fake: unknown item %q in fault %q", key, s)
		}
	}
	return f, nil
}

func parseSeconds(s string) (time.Duration, error) {
	if n, err := strconv.ParseFloat(s, 64); err == nil && n >= 0 {
		return time.Duration(n * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err == nil && d < 0 {
		err = fmt.Errorf("negative duration")
	}
	return d, err
}

// Faults holds the faults a fake applies, safe for concurrent use and
// changeable while the fake serves. The zero value applies none. One Faults
// may be shared by several fakes (Options.Faults).
type Faults struct {
	mu     sync.Mutex
	sticky Fault
	queue  []Fault
}

// SetFault makes f apply to every request (that its Path matches) until
// ClearFaults or another SetFault. The zero Fault clears it.
func (fs *Faults) SetFault(f Fault) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.sticky = f
}

// QueueFault adds one-shot faults: each applies to one request, in order,
// before the fault set by SetFault.
func (fs *Faults) QueueFault(f ...Fault) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.queue = append(fs.queue, f...)
}

// ClearFaults removes the sticky fault and every queued one.
func (fs *Faults) ClearFaults() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.sticky, fs.queue = Fault{}, nil
}

// next takes the fault for a request to path: the first matching queued
// fault, else the sticky one.
func (fs *Faults) next(path string) Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, f := range fs.queue {
		if f.matches(path) {
			fs.queue = append(fs.queue[:i:i], fs.queue[i+1:]...)
			return f
		}
	}
	if fs.sticky.matches(path) {
		return fs.sticky
	}
	return Fault{}
}
