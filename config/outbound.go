package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// outboundForms describes the entries SWITCHYARD_OUTBOUND_ALLOW accepts.
const outboundForms = "use a CIDR (10.0.0.0/8, fd00::/8), an IP address (10.1.2.3), " +
	"a host name (vllm.internal, or *.corp.example for its subdomains), " +
	"each optionally with a port (10.1.2.3:8000, [fd00::1]:8443, vllm.internal:8000)"

// parseOutboundAllow splits the comma-separated allowlist, drops empty
// entries and checks the syntax of each. netguard.NewPolicy parses the
// entries again when the clients are built; config checks them here (with
// the standard library only, as config imports no project package) so that
// a bad entry is reported at load with every other bad setting. A test
// keeps the two in agreement.
func parseOutboundAllow(v string) ([]string, error) {
	var entries []string
	for _, e := range strings.Split(v, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if err := checkOutboundEntry(e); err != nil {
			return nil, fmt.Errorf("has an entry, %q, that %v; %s", e, err, outboundForms)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

func checkOutboundEntry(s string) error {
	if strings.Contains(s, "://") {
		return errors.New("is a URL; give only the host or address, with an optional port")
	}
	host, port, hasPort := s, "", false
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.Index(s, "]")
		if end < 0 {
			return errors.New("has no closing ]")
		}
		host = s[1:end]
		if rest := s[end+1:]; rest != "" {
			if port, hasPort = strings.CutPrefix(rest, ":"); !hasPort {
				return errors.New("has something other than :port after ]")
			}
		}
		if !strings.Contains(host, ":") {
			return errors.New("has brackets around something that is not an IPv6 address")
		}
	case strings.Count(s, ":") == 1:
		host, port, hasPort = strings.Cut(s, ":")
	}
	if hasPort {
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 || strings.HasPrefix(port, "+") {
			return errors.New("has a port that is not a number from 1 to 65535")
		}
	}
	if strings.Contains(host, "/") {
		p, err := netip.ParsePrefix(host)
		switch {
		case err != nil || p.Addr().Zone() != "":
			return errors.New("is not a valid CIDR")
		case p.Addr().Is4In6():
			return errors.New("is an IPv4-mapped CIDR; write the IPv4 form")
		case p != p.Masked():
			return fmt.Errorf("has bits set after the prefix length; did you mean %s?", p.Masked())
		}
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return errors.New("has an IPv6 zone, which is not supported")
		}
		return nil
	}
	if strings.Contains(host, ":") {
		return errors.New("is not a valid IPv6 address (put a port after [address]:)")
	}
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	name = strings.TrimPrefix(name, "*.")
	if name == "" || len(name) > 253 {
		return errors.New("is not a host name")
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' ||
			strings.ContainsFunc(l, func(r rune) bool {
				return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
			}) {
			return errors.New("is not a host name")
		}
	}
	last := labels[len(labels)-1]
	if hex, ok := strings.CutPrefix(last, "0x"); ok && strings.Trim(hex, "0123456789abcdef") == "" ||
		strings.Trim(last, "0123456789") == "" {
		return errors.New("is not a valid IP address or host name (a host name cannot end in a number)")
	}
	return nil
}
