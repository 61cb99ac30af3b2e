package access

import "time"

// Tenant statuses.
const (
	TenantActive    = "active"
	TenantSuspended = "suspended"
)

// Tenant is one customer's isolated space: its own log, keys and policies.
type Tenant struct {
	ID      string
	Name    string
	Status  string
	Created time.Time
}

// TenantWriter stores a new tenant. Stores implement it on their append
// transaction, so that a tenant exists exactly when its tenant.created
// entry does.
type TenantWriter interface {
	InsertTenant(t *Tenant) error
}
