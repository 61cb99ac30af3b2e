package access

// TenantWriter stores a new tenant. Stores implement it on their append
// transaction, so that a tenant exists exactly when its tenant.created
// entry does.
type TenantWriter interface {
	InsertTenant(t *Tenant) error
}
