package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/ledger"
)

// principal is the authenticated caller and the tenant it acts on.
type principal struct {
	key    *access.Key
	tenant string
}

func withPrincipal(ctx context.Context, p *principal) context.Context {
	return context.WithValue(ctx, ctxPrincipal, p)
}

func principalFrom(ctx context.Context) *principal {
	p, _ := ctx.Value(ctxPrincipal).(*principal)
	return p
}

// authenticate checks the bearer key and resolves the tenant the request
// acts on: the key's own, or for an owner key the one named by ?tenant=.
// A tenant the caller may not see is reported as not found.
func (s *Server) authenticate(r *http.Request) (*principal, error) {
	// The scheme is case-insensitive (RFC 9110, section 11.1).
	scheme, presented, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || presented == "" {
		return nil, access.ErrBadKey
	}
	now := s.cfg.Clock()
	k, err := access.Authenticate(r.Context(), s.cfg.Store, presented, now)
	if err != nil {
		return nil, err
	}
	s.touch(r, k, now)
	p := &principal{key: k, tenant: k.Tenant}
	named := r.URL.Query().Get("tenant")
	switch {
	case named == "" || named == k.Tenant:
	case k.Role == access.RoleOwner && k.Tenant == ledger.SystemTenant:
		if !ledger.ValidTenant(named) {
			return nil, errBad("tenant is not a tenant id")
		}
		if _, err := s.cfg.Store.Tenant(r.Context(), named); err != nil {
			return nil, err
		}
		p.tenant = named
	default:
		return nil, fmt.Errorf("key %s asked for tenant %q: %w", k.ID, named, access.ErrNotFound)
	}
	return p, nil
}

// lastUsedEvery is how stale a key's recorded last use may grow: it is
// written at most once a minute per key, not on every request.
const lastUsedEvery = time.Minute

// touch records a key's last use when the stored one is older than
// lastUsedEvery. A failure to record it does not fail the request.
func (s *Server) touch(r *http.Request, k *access.Key, now time.Time) {
	if k.LastUsed != nil && now.Sub(*k.LastUsed) < lastUsedEvery {
		return
	}
	if err := s.cfg.Store.TouchKey(r.Context(), k.ID, now); err != nil {
		s.log.WarnContext(r.Context(), "record key use", "key_id", k.ID, "err", err)
	}
}
