package netguard

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Setting is the environment variable whose entries admit addresses that the
// policy refuses by default. Refusal messages name it.
const Setting = "SWITCHYARD_OUTBOUND_ALLOW"

// AcceptedForms describes the allowlist entries NewPolicy accepts.
const AcceptedForms = "use a CIDR (10.0.0.0/8, fd00::/8), an IP address (10.1.2.3, fd00::1), " +
	"a host name (vllm.internal, or *.corp.example for its subdomains), " +
	"each optionally with a port (10.1.2.3:8000, [fd00::1]:8443, vllm.internal:8000)"

// Resolver looks up the addresses of a host name. *net.Resolver implements
// it; tests inject their own.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Policy decides which addresses outbound clients may connect to. It is
// immutable and safe for concurrent use.
type Policy struct {
	prefixes []prefixRule
	names    []nameRule
	resolver Resolver
}

type prefixRule struct {
	prefix netip.Prefix
	port   uint16 // 0: any port
}

type nameRule struct {
	name     string // lower case, no trailing dot; for a wildcard, the suffix without "*."
	wildcard bool   // matches subdomains of name only
	port     uint16
}

// NewPolicy parses the allowlist entries of SWITCHYARD_OUTBOUND_ALLOW. An
// empty list denies every address that is not public. A bad entry is an
// error that names it and lists the accepted forms.
func NewPolicy(allow []string) (*Policy, error) {
	p := &Policy{}
	for _, raw := range allow {
		if err := p.add(raw); err != nil {
			return nil, fmt.Errorf("%s: entry %q %v; %s", Setting, raw, err, AcceptedForms)
		}
	}
	return p, nil
}

// WithResolver returns a copy of p that resolves host names with r, in
// CheckURL and in clients whose options name no resolver. A nil r means the
// system resolver.
func (p *Policy) WithResolver(r Resolver) *Policy {
	c := *p
	c.resolver = r
	return &c
}

func (p *Policy) add(raw string) error {
	s := strings.TrimSpace(raw)
	if s == "" {
		return fmt.Errorf("is empty")
	}
	if strings.Contains(s, "://") {
		return fmt.Errorf("is a URL; give only the host or address, with an optional port")
	}
	host, port := s, uint16(0)
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.Index(s, "]")
		if end < 0 {
			return fmt.Errorf("has no closing ]")
		}
		host = s[1:end]
		if rest := s[end+1:]; rest != "" {
			ps, ok := strings.CutPrefix(rest, ":")
			if !ok {
				return fmt.Errorf("has %q after ]; write [fd00::1]:8443", rest)
			}
			n, err := parsePort(ps)
			if err != nil {
				return err
			}
			port = n
		}
		if !strings.Contains(host, ":") {
			return fmt.Errorf("has brackets around something that is not an IPv6 address")
		}
	case strings.Count(s, ":") == 1:
		h, ps, _ := strings.Cut(s, ":")
		n, err := parsePort(ps)
		if err != nil {
			return err
		}
		host, port = h, n
	}
	if strings.Contains(host, "/") {
		pfx, err := netip.ParsePrefix(host)
		if err != nil || pfx.Addr().Zone() != "" {
			return fmt.Errorf("is not a valid CIDR")
		}
		if pfx.Addr().Is4In6() {
			return fmt.Errorf("is an IPv4-mapped CIDR; write the IPv4 form")
		}
		if pfx != pfx.Masked() {
			return fmt.Errorf("has bits set after the prefix length; did you mean %s?", pfx.Masked())
		}
		p.prefixes = append(p.prefixes, prefixRule{prefix: pfx, port: port})
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return fmt.Errorf("has an IPv6 zone, which is not supported")
		}
		a = a.Unmap()
		p.prefixes = append(p.prefixes, prefixRule{prefix: netip.PrefixFrom(a, a.BitLen()), port: port})
		return nil
	}
	if strings.Contains(host, ":") {
		return fmt.Errorf("is not a valid IPv6 address (put a port after [address]:)")
	}
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	wildcard := false
	if rest, ok := strings.CutPrefix(name, "*."); ok {
		name, wildcard = rest, true
	}
	if msg := checkHostName(name); msg != "" {
		return fmt.Errorf("%s", msg)
	}
	p.names = append(p.names, nameRule{name: name, wildcard: wildcard, port: port})
	return nil
}

func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 || strings.HasPrefix(s, "+") {
		return 0, fmt.Errorf("has a port that is not a number from 1 to 65535")
	}
	return uint16(n), nil
}

// checkHostName returns why name is not a host name, or "".
func checkHostName(name string) string {
	if name == "" || len(name) > 253 {
		return "is not a host name"
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "is not a host name"
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return "is not a host name"
			}
		}
	}
	if numericLabel(labels[len(labels)-1]) {
		return "is not a valid IP address or host name (a host name cannot end in a number)"
	}
	return ""
}

// numericLabel reports whether a URL parser would read a host ending in
// label as an IPv4 address (WHATWG URL "ends in a number").
func numericLabel(l string) bool {
	if l == "" {
		return false
	}
	if h, ok := strings.CutPrefix(strings.ToLower(l), "0x"); ok {
		return strings.Trim(h, "0123456789abcdef") == ""
	}
	return strings.Trim(l, "0123456789") == ""
}

// parseLegacyIPv4 reads host as inet_aton does: one to four parts, each
// decimal, octal (leading 0) or hexadecimal (0x), the last filling the
// remaining bytes. "2130706433", "0x7f000001", "017700000001" and "127.1"
// are all 127.0.0.1.
func parseLegacyIPv4(host string) (netip.Addr, bool) {
	parts := strings.Split(strings.TrimSuffix(host, "."), ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var v uint64
	for i, part := range parts {
		base, digits := 10, part
		switch {
		case len(part) > 1 && (part[:2] == "0x" || part[:2] == "0X"):
			base, digits = 16, part[2:]
		case len(part) > 1 && part[0] == '0':
			base, digits = 8, part[1:]
		}
		if digits == "" {
			if base != 16 {
				return netip.Addr{}, false
			}
			digits = "0"
		}
		n, err := strconv.ParseUint(digits, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			if n > 255 {
				return netip.Addr{}, false
			}
			v = v<<8 | n
			continue
		}
		rest := uint(8 * (4 - i))
		if n >= 1<<rest {
			return netip.Addr{}, false
		}
		v = v<<rest | n
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// admitsName reports whether a host-name entry admits name on port.
func (p *Policy) admitsName(name string, port uint16) bool {
	for _, r := range p.names {
		if r.port != 0 && r.port != port {
			continue
		}
		if r.wildcard && strings.HasSuffix(name, "."+r.name) || !r.wildcard && name == r.name {
			return true
		}
	}
	return false
}

// admitsAddr reports whether an address entry admits a on port, and, if not,
// the ports of entries that admit a on other ports.
func (p *Policy) admitsAddr(a netip.Addr, port uint16) (bool, []uint16) {
	var others []uint16
	for _, r := range p.prefixes {
		if !r.prefix.Contains(a) {
			continue
		}
		if r.port == 0 || r.port == port {
			return true, nil
		}
		others = append(others, r.port)
	}
	return false, others
}

// check decides whether the address may be dialled on port. byName says
// that the host the caller asked for matched a host-name entry. It returns
// nil or a *Refused with Host unset.
func (p *Policy) check(a netip.Addr, port uint16, byName bool) *Refused {
	a = a.WithZone("")
	refuse := func(reason string, never bool) *Refused {
		return &Refused{Addr: netip.AddrPortFrom(a, port).String(), Reason: reason, ip: a.String(), never: never}
	}
	if port == 0 {
		return refuse("port 0, which cannot be connected to", true)
	}
	v := a.Unmap()
	switch {
	case v.IsUnspecified():
		return refuse("unspecified (connecting to it reaches this machine)", true)
	case v.IsMulticast():
		return refuse("multicast", true)
	case v == broadcast:
		return refuse("the broadcast address", true)
	}
	ok, others := p.admitsAddr(v, port)
	if byName || ok {
		return nil
	}
	reason := classify(a)
	if reason == "" {
		return nil
	}
	r := refuse(reason, false)
	r.ports = others
	return r
}

var broadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

type rangeRule struct {
	prefix netip.Prefix
	reason string
}

func rules(pairs ...string) []rangeRule {
	out := make([]rangeRule, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, rangeRule{netip.MustParsePrefix(pairs[i]), pairs[i+1]})
	}
	return out
}

// v4Rules and v6Rules are checked in order, so specific entries come first.
// They follow the IANA IPv4 and IPv6 special-purpose address registries;
// ranges marked globally reachable there (AS112, AMT, …) are left out.
var v4Rules = rules(
	"169.254.169.254/32", "link-local (cloud metadata)",
	"0.0.0.0/8", `"this network" (0.0.0.0/8)`,
	"10.0.0.0/8", "private (RFC 1918)",
	"100.64.0.0/10", "shared address space (carrier-grade NAT, RFC 6598)",
	"127.0.0.0/8", "loopback",
	"169.254.0.0/16", "link-local",
	"172.16.0.0/12", "private (RFC 1918)",
	"192.0.0.0/24", "reserved for IETF protocol assignments",
	"192.0.2.0/24", "reserved for documentation (TEST-NET-1)",
	"192.88.99.0/24", "reserved (deprecated 6to4 relay anycast)",
	"192.168.0.0/16", "private (RFC 1918)",
	"198.18.0.0/15", "reserved for benchmarking",
	"198.51.100.0/24", "reserved for documentation (TEST-NET-2)",
	"203.0.113.0/24", "reserved for documentation (TEST-NET-3)",
	"224.0.0.0/4", "multicast",
	"240.0.0.0/4", "reserved (240.0.0.0/4)",
)

var v6Rules = rules(
	"::1/128", "loopback",
	"fd00:ec2::254/128", "unique local (cloud metadata)",
	"64:ff9b:1::/48", "a local-use NAT64 address (RFC 8215)",
	"100::/64", "reserved (discard-only, RFC 6666)",
	"2001::/32", "a Teredo address (2001::/32)",
	"2001:2::/48", "reserved for benchmarking",
	"2001::/23", "reserved for IETF protocol assignments",
	"2001:db8::/32", "reserved for documentation",
	"3fff::/20", "reserved for documentation",
	"5f00::/16", "reserved (SRv6 SIDs)",
	"fc00::/7", "unique local (private, fc00::/7)",
	"fe80::/10", "link-local",
	"fec0::/10", "site-local (deprecated)",
	"ff00::/8", "multicast",
)

var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
	compat = netip.MustParsePrefix("::/96")
	global = netip.MustParsePrefix("2000::/3")
)

// classify returns why a is not a public unicast address, or "" if it is.
func classify(a netip.Addr) string {
	a = a.WithZone("")
	if a.Is4In6() {
		if r := classify(a.Unmap()); r != "" {
			return fmt.Sprintf("an IPv4-mapped address of %s, which is %s", a.Unmap(), r)
		}
		return ""
	}
	if a.Is4() {
		for _, r := range v4Rules {
			if r.prefix.Contains(a) {
				return r.reason
			}
		}
		if a == broadcast {
			return "the broadcast address"
		}
		return ""
	}
	if a.IsUnspecified() {
		return "unspecified"
	}
	b := a.As16()
	embedded := func(kind string, e netip.Addr) string {
		if r := classify(e); r != "" {
			return fmt.Sprintf("%s address of %s, which is %s", kind, e, r)
		}
		return ""
	}
	switch {
	case nat64.Contains(a):
		return embedded("a NAT64", netip.AddrFrom4([4]byte(b[12:16])))
	case sixTo4.Contains(a):
		return embedded("a 6to4", netip.AddrFrom4([4]byte(b[2:6])))
	case compat.Contains(a) && a != netip.IPv6Loopback():
		if r := embedded("an IPv4-compatible", netip.AddrFrom4([4]byte(b[12:16]))); r != "" {
			return r
		}
		return "an IPv4-compatible address (deprecated)"
	}
	for _, r := range v6Rules {
		if r.prefix.Contains(a) {
			return r.reason
		}
	}
	if !global.Contains(a) {
		return "reserved (outside global unicast 2000::/3)"
	}
	return ""
}

// target is one address a host resolved to, and whether the allowlist
// admits it by the host's name.
type target struct {
	addr   netip.AddrPort
	byName bool
}

// resolve checks host (a name or IP literal, as in a URL) and port and
// returns the addresses that may be dialled, and the refusals of those
// that may not. err is a lookup failure, or a *Refused when host itself is
// refused.
func (p *Policy) resolve(ctx context.Context, r Resolver, network, host string, port uint16) ([]target, []*Refused, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		if ref := p.check(a, port, false); ref != nil {
			ref.Host = host
			return nil, []*Refused{ref}, nil
		}
		return []target{{addr: netip.AddrPortFrom(a.Unmap(), port)}}, nil, nil
	}
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	if labels := strings.Split(name, "."); numericLabel(labels[len(labels)-1]) {
		ref := &Refused{Host: host, Addr: net.JoinHostPort(host, strconv.Itoa(int(port))), never: true}
		if a, ok := parseLegacyIPv4(name); ok {
			ref.Reason = fmt.Sprintf("a non-standard form of the IPv4 address %s", a)
			if c := classify(a); c != "" {
				ref.Reason += ", which is " + c
			}
			ref.Reason += "; write addresses in dotted-decimal form"
		} else {
			ref.Reason = "not a valid IPv4 address or host name (it ends in a number)"
		}
		return nil, []*Refused{ref}, nil
	}
	byName := p.admitsName(name, port)
	if r == nil {
		r = net.DefaultResolver
	}
	ipNet := "ip"
	switch network {
	case "tcp4", "udp4":
		ipNet = "ip4"
	case "tcp6", "udp6":
		ipNet = "ip6"
	}
	addrs, err := r.LookupNetIP(ctx, ipNet, name)
	if err != nil {
		return nil, nil, err
	}
	if len(addrs) == 0 {
		return nil, nil, &net.DNSError{Err: "no addresses", Name: name, IsNotFound: true}
	}
	var ok []target
	var refused []*Refused
	for _, a := range addrs {
		// A resolver cannot tell an A record from an AAAA record holding
		// ::ffff:a.b.c.d, and *net.Resolver may return either form; treat
		// both as the IPv4 address.
		a = a.Unmap()
		if ref := p.check(a, port, byName); ref != nil {
			ref.Host = host
			refused = append(refused, ref)
			continue
		}
		ok = append(ok, target{addr: netip.AddrPortFrom(a, port), byName: byName})
	}
	return ok, refused, nil
}

// Refused is the error for a connection the policy does not allow.
type Refused struct {
	Host   string // the host the caller asked for: a name, or an IP address as written in the URL
	Addr   string // the address refused, ip:port (host:port for a host refused before resolution)
	Reason string // why, completing "<ip> is …", such as "link-local (cloud metadata)"

	ip    string   // the address as shown in the message
	never bool     // no allowlist entry can admit it
	ports []uint16 // ports on which entries admit the address
}

func (e *Refused) Error() string {
	var b strings.Builder
	b.WriteString("netguard: refused to connect to ")
	what := e.ip
	if what == "" {
		what = e.Host
	}
	if e.Host != "" && e.Host != e.ip && e.ip != "" {
		fmt.Fprintf(&b, "%s (%s)", e.Host, e.Addr)
	} else {
		b.WriteString(e.Addr)
	}
	fmt.Fprintf(&b, ": %s is %s", what, e.Reason)
	switch {
	case e.never:
		b.WriteString("; no setting allows it")
	case len(e.ports) > 0:
		fmt.Fprintf(&b, "; %s admits it only on port %s; add %s to it to allow this port too",
			Setting, joinPorts(e.ports), e.Addr)
	case e.Host != "" && e.Host != e.ip:
		fmt.Fprintf(&b, "; to allow it, add %s or %s to %s", e.ip, e.Host, Setting)
	default:
		fmt.Fprintf(&b, "; to allow it, add %s to %s", e.ip, Setting)
	}
	return b.String()
}

func joinPorts(ports []uint16) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(int(p))
	}
	return strings.Join(s, " or ")
}
