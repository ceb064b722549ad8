package control

import (
	"context"

	"github.com/switchyard/switchyard"
)

// Analytics answers usage questions from the rollups; *analytics.Reader
// implements it.
type Analytics interface {
	Usage(ctx context.Context, q switchyard.UsageQuery) (*switchyard.UsageReport, error)
	Recommendations(ctx context.Context) ([]switchyard.Recommendation, error)
	Health(ctx context.Context, q switchyard.HealthQuery) (*switchyard.HealthReport, error)
}

// HealthHistory answers a health-check history query (admins only).
func (s *Service) HealthHistory(ctx context.Context, a *Actor, q switchyard.HealthQuery) (*switchyard.HealthReport, error) {
	if err := requireAdmin(a, "read the health history"); err != nil {
		return nil, err
	}
	if err := s.analyticsReady(); err != nil {
		return nil, err
	}
	return s.analytics.Health(ctx, q)
}

func (s *Service) analyticsReady() error {
	if s.analytics == nil {
		return switchyard.Errorf(switchyard.EUNAVAILABLE, "usage analytics are not configured on this server")
	}
	return nil
}

// UsageReport answers a usage query. Admins see all usage; a user sees
// only that of the connections they own, whatever the filters say.
func (s *Service) UsageReport(ctx context.Context, a *Actor, q switchyard.UsageQuery) (*switchyard.UsageReport, error) {
	if a == nil || a.User == nil {
		return nil, requireAdmin(a, "read usage")
	}
	if err := s.analyticsReady(); err != nil {
		return nil, err
	}
	q.ConnectionIDs = nil
	if !a.Admin() {
		conns, err := s.ownedConnections(ctx, a.User.ID)
		if err != nil {
			return nil, err
		}
		q.ConnectionIDs = make([]string, 0, len(conns))
		for _, c := range conns {
			q.ConnectionIDs = append(q.ConnectionIDs, c.ID)
		}
	}
	rep, err := s.analytics.Usage(ctx, q)
	if err != nil {
		return nil, err
	}
	s.nameSeries(ctx, rep)
	return rep, nil
}

func (s *Service) ownedConnections(ctx context.Context, owner string) ([]*switchyard.Connection, error) {
	var out []*switchyard.Connection
	f := switchyard.ConnectionFilter{OwnerID: owner, ListOptions: switchyard.ListOptions{Limit: switchyard.MaxPageSize}}
	for {
		page, err := s.store.ListConnections(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out, nil
		}
		f.Cursor = page.NextCursor
	}
}

// nameSeries fills in the names of the groups that still exist.
func (s *Service) nameSeries(ctx context.Context, rep *switchyard.UsageReport) {
	for i := range rep.Series {
		sr := &rep.Series[i]
		if sr.Key == "" {
			continue
		}
		switch rep.GroupBy {
		case switchyard.GroupByProvider:
			if p, err := s.store.GetProvider(ctx, sr.Key); err == nil {
				sr.Name = p.Name
			}
		case switchyard.GroupByModel:
			if m, err := s.store.GetModel(ctx, sr.Key); err == nil {
				sr.Name = m.UpstreamID
				if m.DisplayName != "" {
					sr.Name = m.DisplayName
				}
			}
		case switchyard.GroupByConnection:
			if c, err := s.store.GetConnection(ctx, sr.Key); err == nil {
				sr.Name = c.Name
			}
		case switchyard.GroupByUser:
			if u, err := s.store.GetUser(ctx, sr.Key); err == nil {
				sr.Name = u.Username
			}
		}
	}
}

// Recommendations draws advice from measured usage; admins only.
func (s *Service) Recommendations(ctx context.Context, a *Actor) ([]switchyard.Recommendation, error) {
	if err := requireAdmin(a, "read recommendations"); err != nil {
		return nil, err
	}
	if err := s.analyticsReady(); err != nil {
		return nil, err
	}
	return s.analytics.Recommendations(ctx)
}
