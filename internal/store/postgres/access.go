package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wardenhq/warden/internal/access"
)

var (
	_ access.KeyWriter    = (*appendTx)(nil)
	_ access.TenantWriter = (*appendTx)(nil)
	_ access.BootstrapTx  = (*appendTx)(nil)
)

// TenantExists reports, inside the append transaction, whether a tenant exists.
func (t *appendTx) TenantExists(id string) (bool, error) {
	var exists bool
	if err := t.tx.QueryRow(t.ctx, "SELECT EXISTS (SELECT 1 FROM tenants WHERE tenant_id = $1)", id).Scan(&exists); err != nil {
		return false, fmt.Errorf("tenant %q: %w", id, err)
	}
	return exists, nil
}

// CountKeys counts, inside the append transaction, a tenant's keys of a role.
func (t *appendTx) CountKeys(tenant string, role access.Role) (int, error) {
	var n int
	err := t.tx.QueryRow(t.ctx, "SELECT COUNT(*) FROM api_keys WHERE tenant_id = $1 AND role = $2", tenant, string(role)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count %s keys of %q: %w", role, tenant, err)
	}
	return n, nil
}

func optMicros(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	us := micros(*t)
	return &us
}

func optTime(us *int64) *time.Time {
	if us == nil {
		return nil
	}
	t := fromMicros(*us)
	return &t
}

// InsertKey stores a key in the append transaction of its key.created entry.
func (t *appendTx) InsertKey(k *access.Key) error {
	if k.Tenant != t.tenant {
		return fmt.Errorf("insert key %s of %q into the log of %q", k.ID, k.Tenant, t.tenant)
	}
	_, err := t.tx.Exec(t.ctx, `INSERT INTO api_keys (tenant_id, id, role, name, hash, created_us, expires_us)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		k.Tenant, k.ID, string(k.Role), k.Name, k.Hash[:], micros(k.Created), optMicros(k.Expires))
	if err != nil {
		return fmt.Errorf("insert key %s: %w", k.ID, err)
	}
	return nil
}

// InsertTenant stores a tenant in the append transaction of its
// tenant.created entry.
func (t *appendTx) InsertTenant(tn *access.Tenant) error {
	_, err := t.tx.Exec(t.ctx, "INSERT INTO tenants (tenant_id, name, status, created_us) VALUES ($1, $2, $3, $4)",
		tn.ID, tn.Name, tn.Status, micros(tn.Created))
	if err != nil {
		return fmt.Errorf("insert tenant %q: %w", tn.ID, err)
	}
	return nil
}

// KeyByID returns the stored key with id, in whatever tenant it lives.
func (db *DB) KeyByID(ctx context.Context, id string) (*access.Key, error) {
	var (
		k                          access.Key
		role                       string
		hash                       []byte
		created                    int64
		expires, revoked, lastUsed *int64
	)
	err := db.pool.QueryRow(ctx, `SELECT tenant_id, id, role, name, hash, created_us, expires_us, revoked_us, last_used_us
		FROM api_keys WHERE id = $1`, id).
		Scan(&k.Tenant, &k.ID, &role, &k.Name, &hash, &created, &expires, &revoked, &lastUsed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("key %s: %w", id, access.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", id, err)
	}
	if len(hash) != len(k.Hash) {
		return nil, fmt.Errorf("key %s: stored hash has %d bytes", id, len(hash))
	}
	copy(k.Hash[:], hash)
	k.Role = access.Role(role)
	k.Created = fromMicros(created)
	k.Expires, k.Revoked, k.LastUsed = optTime(expires), optTime(revoked), optTime(lastUsed)
	return &k, nil
}

// CountKeys returns how many keys a tenant has with role (revoked included).
func (db *DB) CountKeys(ctx context.Context, tenant string, role access.Role) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, "SELECT COUNT(*) FROM api_keys WHERE tenant_id = $1 AND role = $2", tenant, string(role)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count %s keys of %q: %w", role, tenant, err)
	}
	return n, nil
}

// Tenant returns a stored tenant.
func (db *DB) Tenant(ctx context.Context, id string) (*access.Tenant, error) {
	var tn access.Tenant
	var created int64
	err := db.pool.QueryRow(ctx, "SELECT tenant_id, name, status, created_us FROM tenants WHERE tenant_id = $1", id).
		Scan(&tn.ID, &tn.Name, &tn.Status, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("tenant %q: %w", id, access.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("tenant %q: %w", id, err)
	}
	tn.Created = fromMicros(created)
	return &tn, nil
}

// Meta returns an installation setting, or "" if it is not set.
func (db *DB) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := db.pool.QueryRow(ctx, "SELECT value FROM meta WHERE tenant_id = '_system' AND key = $1", key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read setting %q: %w", key, err)
	}
	return v, nil
}

// SetMetaOnce stores an installation setting unless it is already set, and
// returns the value in force: the first replica to start fixes it.
func (db *DB) SetMetaOnce(ctx context.Context, key, value string) (string, error) {
	if _, err := db.pool.Exec(ctx, `INSERT INTO meta (tenant_id, key, value) VALUES ('_system', $1, $2)
		ON CONFLICT (tenant_id, key) DO NOTHING`, key, value); err != nil {
		return "", fmt.Errorf("set setting %q: %w", key, err)
	}
	return db.Meta(ctx, key)
}
