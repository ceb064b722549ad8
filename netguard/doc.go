// Package netguard is the one factory for outbound HTTP clients that call an
// admin-supplied URL: gateway calls to providers, connectivity tests, health
// checks and OAuth2/GCP token fetches. Nothing else in Switchyard may build
// an http.Client for such a URL.
//
// # Design
//
// Deny by default, allow by setting. A Policy refuses every address that is
// not public unicast: loopback, private (RFC 1918, fc00::/7), link-local
// (including the cloud metadata address 169.254.169.254), CGNAT, multicast,
// unspecified, broadcast, the documentation, benchmarking and reserved
// ranges of the IANA special-purpose registries, and IPv6 forms that embed
// one of those IPv4 addresses (IPv4-mapped, IPv4-compatible, NAT64
// 64:ff9b::/96, 6to4 2002::/16). Teredo is refused outright, since its
// embedded address is the client's and says nothing about where the packets
// go. The SWITCHYARD_OUTBOUND_ALLOW setting (NewPolicy) admits exceptions: CIDRs,
// single IPs and host names (exact, or "*.corp.example" for subdomains),
// each optionally restricted to one port. Unspecified, multicast and
// broadcast addresses are never admitted: TCP cannot use them, and 0.0.0.0
// is a well-known way to reach this machine.
//
// Ports. A public address may be called on any port, since providers and
// self-hosted servers run on odd ports. An allowlist entry without a port
// admits its addresses on every port; with a port, on that port only.
//
// Check where the connection is made. The client's transport resolves the
// host itself, in its DialContext, so the check sees both the name the
// caller asked for (to match host-name entries) and every address it
// resolves to; it then dials the admitted addresses as IP literals. The
// net.Dialer's ControlContext checks the address again on the socket about
// to connect, as a second lock. Every dial attempt is checked, so DNS
// rebinding, several addresses per name and every new connection are covered.
// The admitted addresses of a name are tried one after another, each with a
// share of the 10 s dial budget, rather than raced as Go's Happy Eyeballs
// does: the dialer only ever sees one IP literal.
// Proxy settings from the environment are ignored (a proxy would make the
// check see the proxy's address), and redirects are never followed: Go
// forwards headers such as x-api-key, api-key and x-goog-api-key to the
// redirect target, whatever its host. The 3xx response is returned instead.
//
// Host names with a numeric last label ("2130706433", "0x7f000001",
// "127.1", "010.0.0.1") are refused: C resolvers read them as IPv4 addresses
// in other notations, so their meaning depends on the resolver.
//
// CheckURL checks a URL at save time, for feedback; it never replaces the
// check at connect time, since what a name resolves to can change.
//
// A refusal is a *Refused error, found with errors.As through the
// *url.Error that http.Client returns. Its message says which address was
// refused, why, and that SWITCHYARD_OUTBOUND_ALLOW admits it.
//
// Errors from outbound calls carry the request URL, query included (Gemini
// puts its API key in ?key=). Redact and RedactURL remove query strings,
// user information and secret header values; call them before an error is
// logged or returned.
package netguard
