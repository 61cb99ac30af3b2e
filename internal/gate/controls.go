package gate

import (
	"context"

	"github.com/wardenhq/warden/internal/controls"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/policy"
)

// Rechecker is Controls that can check again inside the decision's
// append transaction when the tenant's switches changed since Check:
// then a switch set on any replica binds the very next decision.
type Rechecker interface {
	Recheck(tx ledger.Tx, req *policy.Request, seen int64) (hit *ControlHit, version int64, err error)
	// Version is the tenant's controls version, read in the transaction.
	Version(tx ledger.Tx) (int64, error)
}

// ControlsOf adapts a controls.Service to the gate.
type ControlsOf struct{ Service *controls.Service }

func controlHit(h *controls.Hit) *ControlHit {
	if h == nil {
		return nil
	}
	return &ControlHit{ID: h.ID, Effect: h.Effect, Reason: h.Reason}
}

// Check implements Controls.
func (c ControlsOf) Check(ctx context.Context, tenant string, req *policy.Request) (*ControlHit, int64, error) {
	h, v, err := c.Service.Check(ctx, tenant, req)
	return controlHit(h), v, err
}

// Recheck implements Rechecker.
func (c ControlsOf) Recheck(tx ledger.Tx, req *policy.Request, seen int64) (*ControlHit, int64, error) {
	h, v, err := c.Service.Recheck(tx, req, seen)
	return controlHit(h), v, err
}

// Version implements Rechecker.
func (c ControlsOf) Version(tx ledger.Tx) (int64, error) { return c.Service.Version(tx) }

// Forget makes the next Check read the tenant's switches again.
func (c ControlsOf) Forget(tenant string) { c.Service.Forget(tenant) }
