package access

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
)

// DefaultTenant is the tenant a new installation starts with.
const DefaultTenant = "default"

// BootstrapStore is what Bootstrap reads to decide what is missing.
type BootstrapStore interface {
	Tenant(ctx context.Context, id string) (*Tenant, error)
	CountKeys(ctx context.Context, tenant string, role Role) (int, error)
}

// BootstrapTx is what Bootstrap checks again inside the append
// transaction, which holds the tenant's log: replicas starting together
// then make each tenant and key exactly once.
type BootstrapTx interface {
	TenantExists(id string) (bool, error)
	CountKeys(tenant string, role Role) (int, error)
}

// errMade means another replica made the tenant or key first.
var errMade = errors.New("already made")

// NewKeyInfo is a key made by Bootstrap, with the secret to show once.
type NewKeyInfo struct {
	Tenant string
	Role   Role
	ID     string
	Secret string // the full presentable key; MUST be shown once, never logged
}

// Bootstrap makes what a new installation needs: the _system tenant with an
// owner key and the default tenant with an admin key, each tenant's
// creation and then its key's as the first entries of its log. It is
// idempotent and resumes after a crash: only what is missing is made.
func Bootstrap(ctx context.Context, l *ledger.Ledger, st BootstrapStore, rand io.Reader, now func() time.Time) ([]NewKeyInfo, error) {
	var made []NewKeyInfo
	for _, step := range []struct {
		tenant, name string
		role         Role
	}{
		{ledger.SystemTenant, "Installation", RoleOwner},
		{DefaultTenant, "Default", RoleAdmin},
	} {
		if err := ensureTenant(ctx, l, st, step.tenant, step.name, now); err != nil {
			return made, err
		}
		k, err := ensureKey(ctx, l, st, rand, step.tenant, step.role, now)
		if err != nil {
			return made, err
		}
		if k != nil {
			made = append(made, *k)
		}
	}
	return made, nil
}

func ensureTenant(ctx context.Context, l *ledger.Ledger, st BootstrapStore, id, name string, now func() time.Time) error {
	if _, err := st.Tenant(ctx, id); err == nil {
		return nil
	} else if !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("bootstrap tenant %q: %w", id, err)
	}
	t := &Tenant{ID: id, Name: name, Status: TenantActive, Created: now().UTC(), Settings: DefaultSettings}
	if id == DefaultTenant {
		// One person starts the bootstrap tenant: its policy versions need
		// no second approver until an admin raises the count. Its creation
		// entry records that, and evidence reports flag it.
		t.Settings.PolicyApprovals = 0
	}
	req, err := event.New(event.KindTenantCreated, event.ActorSystem,
		&event.TenantCreated{TenantID: id, Name: name, Settings: t.Settings.Event()})
	if err != nil {
		return err
	}
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		w, ok := tx.(TenantWriter)
		c, ok2 := tx.(BootstrapTx)
		if !ok || !ok2 {
			return errors.New("store cannot write tenants")
		}
		if exists, err := c.TenantExists(id); err != nil {
			return err
		} else if exists {
			return errMade
		}
		return w.InsertTenant(t)
	}
	if _, err := l.Append(ctx, id, req); err != nil && !errors.Is(err, errMade) {
		return fmt.Errorf("bootstrap tenant %q: %w", id, err)
	}
	return nil
}

func ensureKey(ctx context.Context, l *ledger.Ledger, st BootstrapStore, rand io.Reader, tenant string, role Role, now func() time.Time) (*NewKeyInfo, error) {
	n, err := st.CountKeys(ctx, tenant, role)
	if err != nil {
		return nil, fmt.Errorf("bootstrap %s key of %q: %w", role, tenant, err)
	}
	if n > 0 {
		return nil, nil
	}
	k, secret, err := NewKey(rand, tenant, role, "bootstrap "+string(role), now())
	if err != nil {
		return nil, err
	}
	req, err := event.New(event.KindKeyCreated, event.ActorSystem,
		&event.KeyCreated{KeyID: k.ID, TenantID: tenant, Role: string(role), Name: k.Name})
	if err != nil {
		return nil, err
	}
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		w, ok := tx.(KeyWriter)
		c, ok2 := tx.(BootstrapTx)
		if !ok || !ok2 {
			return errors.New("store cannot write keys")
		}
		if n, err := c.CountKeys(tenant, role); err != nil {
			return err
		} else if n > 0 {
			return errMade
		}
		return w.InsertKey(k)
	}
	if _, err := l.Append(ctx, tenant, req); errors.Is(err, errMade) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("bootstrap %s key of %q: %w", role, tenant, err)
	}
	return &NewKeyInfo{Tenant: tenant, Role: role, ID: k.ID, Secret: secret}, nil
}
