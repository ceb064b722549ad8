package auth

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// LimiterConfig configures a LoginLimiter. Zero fields take the defaults.
type LimiterConfig struct {
	// PerUser is how many failed logins a username may have within Window
	// (default 5).
	PerUser int
	// PerAddress is how many failed logins a client address may have within
	// Window, over all usernames (default 20). IPv6 addresses count per /64.
	PerAddress int
	// Window is the period over which failures count (default 15 minutes).
	Window time.Duration
	// MaxKeys bounds the usernames and, separately, the addresses tracked
	// (default 100,000); past it the entries with the oldest last failure
	// are dropped.
	MaxKeys int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Limiter defaults.
const (
	DefaultPerUser    = 5
	DefaultPerAddress = 20
	DefaultWindow     = 15 * time.Minute
	DefaultMaxKeys    = 100_000
)

// maxKeyLen bounds the memory one key may take; longer keys are hashed.
const maxKeyLen = 64

// LoginLimiter throttles password guessing. A login handler calls Allow
// before verifying a password, Failure after a wrong one and Success after
// a right one.
//
// It counts failures in a sliding window: a username (or address) is
// blocked while it has PerUser (or PerAddress) failures within the last
// Window, until the oldest of them is Window old. Memory is bounded: expired
// entries are dropped lazily on each call, and at most MaxKeys usernames and
// MaxKeys addresses are tracked. It starts no goroutines and is safe for
// concurrent use.
type LoginLimiter struct {
	mu    sync.Mutex
	now   func() time.Time
	users *failureLog
	addrs *failureLog
}

// NewLoginLimiter returns a limiter with cfg's settings.
func NewLoginLimiter(cfg LimiterConfig) *LoginLimiter {
	if cfg.PerUser <= 0 {
		cfg.PerUser = DefaultPerUser
	}
	if cfg.PerAddress <= 0 {
		cfg.PerAddress = DefaultPerAddress
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = DefaultMaxKeys
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &LoginLimiter{
		now:   cfg.Now,
		users: newFailureLog(cfg.PerUser, cfg.Window, cfg.MaxKeys),
		addrs: newFailureLog(cfg.PerAddress, cfg.Window, cfg.MaxKeys),
	}
}

// Allow reports whether a login for username from addr may be tried now.
// When it may not, retryAfter is how long until it may (for a Retry-After
// header). addr may be an IP address or an "ip:port" such as
// http.Request.RemoteAddr; an empty addr is not limited by address.
func (l *LoginLimiter) Allow(username, addr string) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.users.expire(now)
	l.addrs.expire(now)
	wait := l.users.blockedFor(userKey(username), now)
	if a, ok := addrKey(addr); ok {
		wait = max(wait, l.addrs.blockedFor(a, now))
	}
	return wait == 0, wait
}

// Failure records a failed login for username from addr.
func (l *LoginLimiter) Failure(username, addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.users.expire(now)
	l.addrs.expire(now)
	l.users.add(userKey(username), now)
	if a, ok := addrKey(addr); ok {
		l.addrs.add(a, now)
	}
}

// Success records a successful login: it clears the username's failures.
// The address's failures stay, so that logging in to one account does not
// buy more guesses at others from the same address.
func (l *LoginLimiter) Success(username, _ string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.users.remove(userKey(username))
}

// userKey normalises a username: trimmed, lower-case, long ones hashed.
func userKey(username string) string {
	return boundKey(strings.ToLower(strings.TrimSpace(username)))
}

// addrKey groups a client address: an IPv4 address (or IPv4-mapped IPv6)
// stands for itself, an IPv6 address for its /64, which one subscriber
// usually holds whole. An unparseable address is counted as given.
func addrKey(addr string) (string, bool) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return "", false
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		ap, err2 := netip.ParseAddrPort(addr)
		if err2 != nil {
			return boundKey(strings.ToLower(addr)), true
		}
		ip = ap.Addr()
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		return ip.String(), true
	}
	return netip.PrefixFrom(ip, 64).Masked().String(), true
}

func boundKey(k string) string {
	if len(k) <= maxKeyLen {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// failureLog holds, per key, the times of the recent failures (at most
// limit of them), in a list ordered by last failure, oldest first, so that
// expiry and eviction take from the front.
type failureLog struct {
	limit   int
	window  time.Duration
	maxKeys int
	keys    map[string]*list.Element
	order   *list.List // of *failures
}

type failures struct {
	key   string
	times []time.Time // oldest first, at most limit
}

func newFailureLog(limit int, window time.Duration, maxKeys int) *failureLog {
	return &failureLog{limit: limit, window: window, maxKeys: maxKeys,
		keys: make(map[string]*list.Element), order: list.New()}
}

// expire drops the keys whose last failure is at least window old.
func (f *failureLog) expire(now time.Time) {
	for e := f.order.Front(); e != nil; e = f.order.Front() {
		fs := e.Value.(*failures)
		if len(fs.times) > 0 && now.Sub(fs.times[len(fs.times)-1]) < f.window {
			return
		}
		f.order.Remove(e)
		delete(f.keys, fs.key)
	}
}

// blockedFor returns how long key stays blocked, 0 if it is not.
func (f *failureLog) blockedFor(key string, now time.Time) time.Duration {
	e, ok := f.keys[key]
	if !ok {
		return 0
	}
	fs := e.Value.(*failures)
	fs.prune(now, f.window)
	if len(fs.times) == 0 {
		f.remove(key)
		return 0
	}
	if len(fs.times) < f.limit {
		return 0
	}
	// Blocked until the oldest failure counted leaves the window.
	return fs.times[len(fs.times)-f.limit].Add(f.window).Sub(now)
}

func (f *failureLog) add(key string, now time.Time) {
	e, ok := f.keys[key]
	if !ok {
		e = f.order.PushBack(&failures{key: key, times: make([]time.Time, 0, 1)})
		f.keys[key] = e
	}
	fs := e.Value.(*failures)
	fs.prune(now, f.window)
	if len(fs.times) == f.limit {
		fs.times = append(fs.times[:0], fs.times[1:]...)
	}
	fs.times = append(fs.times, now)
	f.order.MoveToBack(e)
	for len(f.keys) > f.maxKeys {
		old := f.order.Front()
		f.order.Remove(old)
		delete(f.keys, old.Value.(*failures).key)
	}
}

func (f *failureLog) remove(key string) {
	if e, ok := f.keys[key]; ok {
		f.order.Remove(e)
		delete(f.keys, key)
	}
}

// prune drops the failures that are at least window old.
func (fs *failures) prune(now time.Time, window time.Duration) {
	i := 0
	for i < len(fs.times) && now.Sub(fs.times[i]) >= window {
		i++
	}
	if i > 0 {
		fs.times = append(fs.times[:0], fs.times[i:]...)
	}
}

func (f *failureLog) len() int { return len(f.keys) }
