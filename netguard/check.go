package netguard

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/switchyard/switchyard"
)

// CheckURL validates raw as switchyard.ValidateBaseURL does, then resolves
// its host now and checks every address against the policy, for feedback
// when a URL is saved. It never replaces the check at connect time: what a
// name resolves to can change. Errors are *switchyard.Error with code
// EINVALID and a message that completes "<field> …"; a refusal wraps a
// *Refused.
func (p *Policy) CheckURL(ctx context.Context, raw string) error {
	if err := switchyard.ValidateBaseURL(raw); err != nil {
		return err
	}
	u, err := url.Parse(raw)
	if err != nil { // ValidateBaseURL parsed it already
		return switchyard.Errorf(switchyard.EINVALID, "is not a valid URL")
	}
	port := uint64(443)
	if u.Scheme == "http" {
		port = 80
	}
	if ps := u.Port(); ps != "" {
		if port, err = strconv.ParseUint(ps, 10, 16); err != nil || port == 0 {
			return switchyard.Errorf(switchyard.EINVALID, "has a port that is not a number from 1 to 65535")
		}
	}
	_, refused, err := p.resolve(ctx, p.resolver, "tcp", u.Hostname(), uint16(port))
	if err != nil {
		return &switchyard.Error{
			Code:    switchyard.EINVALID,
			Message: fmt.Sprintf("has a host, %s, that cannot be resolved here", u.Hostname()),
			Err:     Redact(err),
		}
	}
	if len(refused) == 0 {
		return nil
	}
	ref := refused[0]
	var msg string
	switch {
	case ref.ip == "": // refused before resolution
		msg = fmt.Sprintf("has a host, %s, that is %s", ref.Host, ref.Reason)
	case ref.ip == ref.Host:
		msg = fmt.Sprintf("points to %s, which is %s", ref.ip, ref.Reason)
	default:
		msg = fmt.Sprintf("resolves to %s, which is %s", ref.ip, ref.Reason)
	}
	switch {
	case ref.never:
		msg += "; no setting allows it"
	case len(ref.ports) > 0:
		msg += fmt.Sprintf("; %s admits it only on port %s; add %s to it to allow this port", Setting, joinPorts(ref.ports), ref.Addr)
	case ref.ip != ref.Host:
		msg += fmt.Sprintf("; add %s (or the host name %s) to %s to allow it", ref.ip, ref.Host, Setting)
	default:
		msg += fmt.Sprintf("; add it to %s to allow it", Setting)
	}
	return &switchyard.Error{Code: switchyard.EINVALID, Message: msg, Err: errors.Join(refusedErrs(refused)...)}
}

func refusedErrs(rs []*Refused) []error {
	errs := make([]error, len(rs))
	for i, r := range rs {
		errs[i] = r
	}
	return errs
}
