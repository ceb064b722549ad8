package auth

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func mustAllow(t *testing.T, l *LoginLimiter, user, addr string) {
	t.Helper()
	if ok, wait := l.Allow(user, addr); !ok {
		t.Fatalf("Allow(%q, %q) = false, %v; want true", user, addr, wait)
	}
}

func mustBlock(t *testing.T, l *LoginLimiter, user, addr string, wantWait time.Duration) {
	t.Helper()
	ok, wait := l.Allow(user, addr)
	if ok {
		t.Fatalf("Allow(%q, %q) = true; want blocked", user, addr)
	}
	if wait != wantWait {
		t.Fatalf("Allow(%q, %q) retryAfter = %v; want %v", user, addr, wait, wantWait)
	}
}

func TestLoginLimiterDefaults(t *testing.T) {
	clock := newClock()
	l := NewLoginLimiter(LimiterConfig{Now: clock.Now})
	for i := range 5 {
		mustAllow(t, l, "ada", fmt.Sprintf("192.0.2.%d", i))
		l.Failure("ada", fmt.Sprintf("192.0.2.%d", i))
	}
	// The sixth attempt is refused, whatever the address.
	mustBlock(t, l, "ada", "198.51.100.7", 15*time.Minute)
	// Others are not affected.
	mustAllow(t, l, "grace", "198.51.100.7")
}

func TestLoginLimiterSlidingWindow(t *testing.T) {
	clock := newClock()
	l := NewLoginLimiter(LimiterConfig{PerUser: 5, PerAddress: 100, Window: 15 * time.Minute, Now: clock.Now})
	for range 5 {
		mustAllow(t, l, "ada", "192.0.2.1")
		l.Failure("ada", "192.0.2.1")
		clock.Advance(time.Minute)
	}
	// Failures at 0..4 min; now 5 min: blocked until the first is 15 min old.
	mustBlock(t, l, "ada", "192.0.2.1", 10*time.Minute)
	clock.Advance(10*time.Minute - time.Second)
	mustBlock(t, l, "ada", "192.0.2.1", time.Second)
	clock.Advance(time.Second)
	// The first failure left the window; one more try is allowed.
	mustAllow(t, l, "ada", "192.0.2.1")
	l.Failure("ada", "192.0.2.1")
	// Now blocked until the second failure (at 1 min) leaves: at 16 min.
	mustBlock(t, l, "ada", "192.0.2.1", time.Minute)
}

func TestLoginLimiterNormalisesUsername(t *testing.T) {
	clock := newClock()
	l := NewLoginLimiter(LimiterConfig{PerUser: 3, Now: clock.Now})
	for _, u := range []string{"Ada", " ada", "ADA\t"} {
		l.Failure(u, "192.0.2.1")
	}
	mustBlock(t, l, "ada", "192.0.2.2", 15*time.Minute)
	mustBlock(t, l, "  aDa  ", "192.0.2.2", 15*time.Minute)
}

func TestLoginLimiterPerAddress(t *testing.T) {
	clock := newClock()
	l := NewLoginLimiter(LimiterConfig{Now: clock.Now})
	for i := range 20 {
		u := fmt.Sprintf("user%d", i)
		mustAllow(t, l, u, "203.0.113.9")
		l.Failure(u, "203.0.113.9")
	}
	// A 21st username from the same address is refused...
	mustBlock(t, l, "someone-new", "203.0.113.9", 15*time.Minute)
	mustBlock(t, l, "someone-new", "203.0.113.9:51234", 15*time.Minute)
	// ...but the same usernames from elsewhere are fine.
	mustAllow(t, l, "someone-new", "203.0.113.10")
	mustAllow(t, l, "user0", "203.0.113.10")
}

func TestLoginLimiterSuccessResetsUserOnly(t *testing.T) {
	clock := newClock()
	l := NewLoginLimiter(LimiterConfig{PerUser: 5, PerAddress: 7, Now: clock.Now})
	for range 4 {
		l.Failure("ada", "192.0.2.1")
	}
	l.Success("ada", "192.0.2.1")
	if n := l.users.len(); n != 0 {
		t.Errorf("%d usernames tracked after success; want 0", n)
	}
	// The user's count starts again: two more failures are fine for the user,
	mustAllow(t, l, "ada", "192.0.2.2")
	l.Failure("ada", "192.0.2.1")
	l.Failure("ada", "192.0.2.1")
	mustAllow(t, l, "ada", "192.0.2.2")
	// but the address has now failed 6 times; one more blocks it.
	l.Failure("ada", "192.0.2.1")
	mustBlock(t, l, "ada", "192.0.2.1", 15*time.Minute)
	mustAllow(t, l, "ada", "192.0.2.2")
}

func TestLoginLimiterExpiry(t *testing.T) {
	clock := newClock()
	l := NewLoginLimiter(LimiterConfig{Window: time.Hour, Now: clock.Now})
	for range 5 {
		l.Failure("ada", "192.0.2.1")
	}
	for i := range 50 {
		l.Failure(fmt.Sprintf("user%d", i), fmt.Sprintf("192.0.2.%d", 10+i%30))
	}
	mustBlock(t, l, "ada", "198.51.100.1", time.Hour)
	clock.Advance(time.Hour - time.Nanosecond)
	mustBlock(t, l, "ada", "198.51.100.1", time.Nanosecond)
	clock.Advance(time.Nanosecond)
	mustAllow(t, l, "ada", "198.51.100.1")
	// Expiry is lazy: the check above dropped every expired entry.
	if u, a := l.users.len(), l.addrs.len(); u != 0 || a != 0 {
		t.Errorf("after the window %d usernames and %d addresses are tracked; want 0", u, a)
	}
}

func TestAddrKey(t *testing.T) {
	tests := []struct {
		addr, want string
	}{
		{"192.0.2.1", "192.0.2.1"},
		{"192.0.2.1:443", "192.0.2.1"},
		{" 192.0.2.1 ", "192.0.2.1"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"[::ffff:192.0.2.1]:80", "192.0.2.1"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2::5]:8443", "2001:db8:1:2::/64"},
		{"2001:DB8:1:2::7", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"::1", "::/64"},
		{"not-an-ip", "not-an-ip"},
		{"unix:@", "unix:@"},
	}
	for _, tt := range tests {
		got, ok := addrKey(tt.addr)
		if !ok || got != tt.want {
			t.Errorf("addrKey(%q) = %q, %v; want %q", tt.addr, got, ok, tt.want)
		}
	}
	if _, ok := addrKey(""); ok {
		t.Error("an empty address is counted")
	}
	if k, _ := addrKey(strings.Repeat("x", 10000)); len(k) > 80 {
		t.Errorf("a 10,000-byte address gives a %d-byte key", len(k))
	}
	if k := userKey(strings.Repeat("a", 10000)); len(k) > 80 {
		t.Errorf("a 10,000-byte username gives a %d-byte key", len(k))
	}
	if userKey(strings.Repeat("a", 100)) == userKey(strings.Repeat("a", 101)) {
		t.Error("long usernames collide")
	}
}

func TestLoginLimiterIPv6Grouping(t *testing.T) {
	clock := newClock()
	l := NewLoginLimiter(LimiterConfig{PerAddress: 3, Now: clock.Now})
	// Three failures from three addresses of one /64, with three usernames.
	l.Failure("a", "2001:db8:1:2::1")
	l.Failure("b", "[2001:db8:1:2::2]:1234")
	l.Failure("c", "2001:db8:1:2:abcd::3")
	mustBlock(t, l, "d", "2001:db8:1:2:ffff::4", 15*time.Minute)
	// The next /64 is another subscriber.
	mustAllow(t, l, "d", "2001:db8:1:3::1")
}

func TestLoginLimiterEvictionBound(t *testing.T) {
	clock := newClock()
	const maxKeys = 100
	l := NewLoginLimiter(LimiterConfig{MaxKeys: maxKeys, Now: clock.Now})
	for i := range 10 * maxKeys {
		for range 5 {
			l.Failure(fmt.Sprintf("user%d", i), fmt.Sprintf("10.0.%d.%d", i/256, i%256))
		}
		if u, a := l.users.len(), l.addrs.len(); u > maxKeys || a > maxKeys {
			t.Fatalf("tracking %d usernames and %d addresses; want at most %d each", u, a, maxKeys)
		}
		if l.users.order.Len() != l.users.len() || l.addrs.order.Len() != l.addrs.len() {
			t.Fatal("list and map disagree")
		}
	}
	// The most recent keys are kept, the oldest were dropped.
	last := 10*maxKeys - 1
	mustBlock(t, l, fmt.Sprintf("user%d", last), "", 15*time.Minute)
	mustAllow(t, l, "user0", "")
}

func TestLoginLimiterConcurrent(t *testing.T) {
	clock := newClock()
	l := NewLoginLimiter(LimiterConfig{MaxKeys: 50, Now: clock.Now})
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 500 {
				u := fmt.Sprintf("user%d", (g*7+i)%80)
				a := fmt.Sprintf("2001:db8:%x::%x", i%70, g)
				if ok, wait := l.Allow(u, a); !ok && wait <= 0 {
					t.Errorf("blocked with retryAfter %v", wait)
				}
				switch i % 5 {
				case 4:
					l.Success(u, a)
				default:
					l.Failure(u, a)
				}
				if i%50 == 0 {
					clock.Advance(time.Minute)
				}
			}
		})
	}
	wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	if u, a := l.users.len(), l.addrs.len(); u > 50 || a > 50 {
		t.Errorf("tracking %d usernames and %d addresses; want at most 50 each", u, a)
	}
}

func TestLoginLimiterClockBackwards(t *testing.T) {
	clock := newClock()
	l := NewLoginLimiter(LimiterConfig{PerUser: 2, Window: time.Minute, Now: clock.Now})
	l.Failure("a", "192.0.2.1")
	clock.Advance(2 * time.Minute)
	l.Failure("b", "192.0.2.1")
	clock.Advance(-3 * time.Minute) // a wall clock set back
	l.Failure("a", "192.0.2.1")
	clock.Advance(10 * time.Minute)
	mustAllow(t, l, "a", "192.0.2.1")
	mustAllow(t, l, "b", "192.0.2.1")
}

func BenchmarkLoginLimiter(b *testing.B) {
	l := NewLoginLimiter(LimiterConfig{})
	i := 0
	for b.Loop() {
		u := fmt.Sprintf("user%d", i%1000)
		l.Allow(u, "192.0.2.1")
		l.Failure(u, "192.0.2.1")
		i++
	}
}
