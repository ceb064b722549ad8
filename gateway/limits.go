package gateway

import (
	"math"
	"sync"
	"time"
)

// tokenBucket limits a connection's tokens per minute. A request's tokens
// are known only when it ends, so they are taken then: the bucket may go
// below zero, and refuses requests until it has refilled above it.
type tokenBucket struct {
	mu     sync.Mutex
	tpm    int
	tokens float64
	last   time.Time
}

func newTokenBucket(tpm int, now time.Time) *tokenBucket {
	return &tokenBucket{tpm: tpm, tokens: float64(tpm), last: now}
}

func (b *tokenBucket) refill(now time.Time) {
	if el := now.Sub(b.last); el > 0 {
		b.tokens = math.Min(float64(b.tpm), b.tokens+el.Minutes()*float64(b.tpm))
		b.last = now
	}
}

// allow reports whether a request may start, how long until one may, and
// the tokens left.
func (b *tokenBucket) allow(now time.Time) (ok bool, wait time.Duration, remaining int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(now)
	if b.tokens > 0 {
		return true, 0, int(b.tokens)
	}
	need := (1 - b.tokens) / float64(b.tpm)
	return false, time.Duration(need * float64(time.Minute)), 0
}

// take subtracts a finished request's tokens.
func (b *tokenBucket) take(now time.Time, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(now)
	b.tokens -= float64(n)
}

// tokenBucket returns the connection's bucket, or nil without a limit.
func (g *Gateway) tokenBucket(connID string, tpm int) *tokenBucket {
	if tpm <= 0 {
		return nil
	}
	if v, ok := g.tokens.Load(connID); ok && v.(*tokenBucket).tpm == tpm {
		return v.(*tokenBucket)
	}
	b := newTokenBucket(tpm, g.cfg.Now())
	g.tokens.Store(connID, b)
	return b
}
