package analytics

import "time"

// Pace bounds how long a background job (the usage writer, the rollup
// job) runs without a pause.
//
// Go's scheduler does not stop a busy goroutine to look for network
// events: while one runs, connections that became readable wait until it
// blocks, or until the runtime's monitor polls the network, which it does
// at most every 10 ms. A server given one CPU (GOMAXPROCS=1, as in a
// container limited to one core) would hold every request that arrives
// during a second-long rollup for up to 10 ms. After each Work of running,
// a paced job sleeps for Rest: the processor goes idle, the runtime polls
// the network and runs the requests waiting, and the job carries on.
type Pace struct {
	// Work is the longest a job runs before it rests (default 1 ms).
	// A negative Work turns pacing off.
	Work time.Duration
	// Rest is how long it sleeps then (default 50 µs; the runtime may
	// wake it later when it has requests to run).
	Rest time.Duration
}

// Defaults of Pace.
const (
	DefaultPaceWork = time.Millisecond
	DefaultPaceRest = 50 * time.Microsecond
)

func (p Pace) withDefaults() Pace {
	if p.Work == 0 {
		p.Work = DefaultPaceWork
	}
	if p.Rest <= 0 {
		p.Rest = DefaultPaceRest
	}
	return p
}

// paceCheckEvery is how many steps pass between looks at the clock: a
// step (one event or row) costs microseconds, so a look every 16 keeps the
// clock's cost out of sight while overshooting Work by well under Work.
const paceCheckEvery = 16

// pacer applies a Pace to one run of a job: the job calls step once per
// unit of work (an event read, a batch written).
type pacer struct {
	pace  Pace
	now   func() time.Time
	sleep func(time.Duration)
	n     int
	since time.Time
}

func newPacer(p Pace, now func() time.Time, sleep func(time.Duration)) *pacer {
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = time.Sleep
	}
	return &pacer{pace: p.withDefaults(), now: now, sleep: sleep}
}

// step counts one unit of work and rests once Work has passed since the
// last rest (or the first step).
func (p *pacer) step() {
	if p.pace.Work < 0 {
		return
	}
	p.n++
	if p.n%paceCheckEvery != 1 {
		return
	}
	p.check()
}

// check rests if Work has passed, whatever the step count: for work
// whose units are long (a batch written).
func (p *pacer) check() {
	if p.pace.Work < 0 {
		return
	}
	t := p.now()
	if p.since.IsZero() {
		p.since = t
		return
	}
	if t.Sub(p.since) < p.pace.Work {
		return
	}
	p.sleep(p.pace.Rest)
	p.since = p.now()
}
