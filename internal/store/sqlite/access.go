package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wardenhq/warden/internal/access"
)

var (
	_ access.KeyWriter    = (*appendTx)(nil)
	_ access.TenantWriter = (*appendTx)(nil)
	_ access.BootstrapTx  = (*appendTx)(nil)
)

// TenantExists reports, inside the append transaction, whether a tenant exists.
func (t *appendTx) TenantExists(id string) (bool, error) {
	var n int
	err := t.tx.QueryRowContext(t.ctx, "SELECT COUNT(*) FROM tenants WHERE tenant_id = ?", id).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("tenant %q: %w", id, err)
	}
	return n > 0, nil
}

// CountKeys counts, inside the append transaction, a tenant's keys of a role.
func (t *appendTx) CountKeys(tenant string, role access.Role) (int, error) {
	var n int
	err := t.tx.QueryRowContext(t.ctx, "SELECT COUNT(*) FROM api_keys WHERE tenant_id = ? AND role = ?", tenant, string(role)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count %s keys of %q: %w", role, tenant, err)
	}
	return n, nil
}

func nullMicros(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: micros(*t), Valid: true}
}

func timePtr(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromMicros(n.Int64)
	return &t
}

// InsertKey stores a key in the append transaction of its key.created entry.
func (t *appendTx) InsertKey(k *access.Key) error {
	if k.Tenant != t.tenant {
		return fmt.Errorf("insert key %s of %q into the log of %q", k.ID, k.Tenant, t.tenant)
	}
	_, err := t.tx.ExecContext(t.ctx, `INSERT INTO api_keys
		(tenant_id, id, role, name, hash, created_us, expires_us) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		k.Tenant, k.ID, string(k.Role), k.Name, k.Hash[:], micros(k.Created), nullMicros(k.Expires))
	if err != nil {
		return fmt.Errorf("insert key %s: %w", k.ID, err)
	}
	return nil
}

// InsertTenant stores a tenant in the append transaction of its
// tenant.created entry.
func (t *appendTx) InsertTenant(tn *access.Tenant) error {
	_, err := t.tx.ExecContext(t.ctx,
		"INSERT INTO tenants (tenant_id, name, status, created_us) VALUES (?, ?, ?, ?)",
		tn.ID, tn.Name, tn.Status, micros(tn.Created))
	if err != nil {
		return fmt.Errorf("insert tenant %q: %w", tn.ID, err)
	}
	return nil
}

const sqlKeyByID = `SELECT tenant_id, id, role, name, hash, created_us, expires_us, revoked_us, last_used_us
	FROM api_keys WHERE id = ?`

// KeyByID returns the stored key with id, in whatever tenant it lives.
func (db *DB) KeyByID(ctx context.Context, id string) (*access.Key, error) {
	var (
		k                          access.Key
		role                       string
		hash                       []byte
		created                    int64
		expires, revoked, lastUsed sql.NullInt64
	)
	err := db.queryRow(ctx, sqlKeyByID, id).
		Scan(&k.Tenant, &k.ID, &role, &k.Name, &hash, &created, &expires, &revoked, &lastUsed)
	if errors.Is(err, sql.ErrNoRows) {
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
	k.Expires, k.Revoked, k.LastUsed = timePtr(expires), timePtr(revoked), timePtr(lastUsed)
	return &k, nil
}

// CountKeys returns how many keys a tenant has with role (revoked included).
func (db *DB) CountKeys(ctx context.Context, tenant string, role access.Role) (int, error) {
	var n int
	err := db.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM api_keys WHERE tenant_id = ? AND role = ?",
		tenant, string(role)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count %s keys of %q: %w", role, tenant, err)
	}
	return n, nil
}

// Tenant returns a stored tenant.
func (db *DB) Tenant(ctx context.Context, id string) (*access.Tenant, error) {
	var tn access.Tenant
	var created int64
	err := db.r.QueryRowContext(ctx, "SELECT tenant_id, name, status, created_us FROM tenants WHERE tenant_id = ?", id).
		Scan(&tn.ID, &tn.Name, &tn.Status, &created)
	if errors.Is(err, sql.ErrNoRows) {
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
	err := db.r.QueryRowContext(ctx, "SELECT value FROM meta WHERE tenant_id = '_system' AND key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read setting %q: %w", key, err)
	}
	return v, nil
}

// SetMetaOnce stores an installation setting unless it is already set, and
// returns the value in force.
func (db *DB) SetMetaOnce(ctx context.Context, key, value string) (string, error) {
	if db.w == nil {
		return "", fmt.Errorf("set setting %q: store opened read-only", key)
	}
	if _, err := db.w.ExecContext(ctx,
		"INSERT OR IGNORE INTO meta (tenant_id, key, value) VALUES ('_system', ?, ?)", key, value); err != nil {
		return "", fmt.Errorf("set setting %q: %w", key, err)
	}
	var v string
	if err := db.w.QueryRowContext(ctx, "SELECT value FROM meta WHERE tenant_id = '_system' AND key = ?", key).Scan(&v); err != nil {
		return "", fmt.Errorf("read setting %q: %w", key, err)
	}
	return v, nil
}
