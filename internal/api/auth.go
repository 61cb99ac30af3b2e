package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"

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
	k, err := access.Authenticate(r.Context(), s.cfg.Store, presented, s.cfg.Clock())
	if err != nil {
		return nil, err
	}
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
