package fake

import (
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Request is one request as it reached a fake.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
	Time   time.Time
}

// DefaultRecordLimit is how many requests a Recorder keeps when its Limit is
// zero.
const DefaultRecordLimit = 256

// Recorder counts the requests that reached a fake and keeps the most recent
// ones. It is safe for concurrent use; the zero value is ready. One Recorder
// may be shared by several fakes (Options.Recorder).
type Recorder struct {
	// Limit is how many requests are kept (DefaultRecordLimit when zero);
	// older ones are dropped but still counted.
	Limit int

	mu    sync.Mutex
	count int
	reqs  []Request
}

func (rc *Recorder) record(req Request) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	limit := rc.Limit
	if limit <= 0 {
		limit = DefaultRecordLimit
	}
	rc.count++
	rc.reqs = append(rc.reqs, req)
	if len(rc.reqs) > limit {
		rc.reqs = append([]Request(nil), rc.reqs[len(rc.reqs)-limit:]...)
	}
}

// RequestCount is the number of requests received since the last
// ResetRequests, including those refused.
func (rc *Recorder) RequestCount() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.count
}

// Requests returns the kept requests, oldest first.
func (rc *Recorder) Requests() []Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Request(nil), rc.reqs...)
}

// LastRequest returns the most recent request.
func (rc *Recorder) LastRequest() (Request, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.reqs) == 0 {
		return Request{}, false
	}
	return rc.reqs[len(rc.reqs)-1], true
}

// ResetRequests forgets every request and sets the count to zero.
func (rc *Recorder) ResetRequests() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.count, rc.reqs = 0, nil
}
