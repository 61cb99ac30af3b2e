package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wardenhq/warden/internal/access"
)

var (
	_ access.Tx     = (*appendTx)(nil)
	_ access.Reader = (*DB)(nil)
)

// The append transaction holds its tenant's log head lock, and only that
// tenant's transactions change its tenant row and keys (TouchKey writes
// last_used alone, which no transaction reads for update). So the
// ...ForUpdate reads need no row locks of their own.

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
	groups, bindings, err := keyLists(k)
	if err != nil {
		return err
	}
	_, err = t.tx.Exec(t.ctx, `INSERT INTO api_keys
		(tenant_id, id, role, name, hash, created_us, expires_us, groups_json, bindings_json)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		k.Tenant, k.ID, string(k.Role), k.Name, k.Hash[:], micros(k.Created), optMicros(k.Expires), groups, bindings)
	if err != nil {
		return fmt.Errorf("insert key %s: %w", k.ID, err)
	}
	return nil
}

// keyLists encodes a key's groups and bindings as JSON arrays.
func keyLists(k *access.Key) (groups, bindings string, err error) {
	g, err := json.Marshal(orEmpty(k.Groups))
	if err != nil {
		return "", "", fmt.Errorf("key %s groups: %w", k.ID, err)
	}
	b, err := json.Marshal(orEmpty(k.Bindings))
	if err != nil {
		return "", "", fmt.Errorf("key %s bindings: %w", k.ID, err)
	}
	return string(g), string(b), nil
}

func orEmpty(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// UpdateKey stores a key's role, name, groups, bindings, expiry and
// revocation, in the append transaction of the entry that records it.
func (t *appendTx) UpdateKey(k *access.Key) error {
	if k.Tenant != t.tenant {
		return fmt.Errorf("update key %s of %q in the log of %q", k.ID, k.Tenant, t.tenant)
	}
	groups, bindings, err := keyLists(k)
	if err != nil {
		return err
	}
	tag, err := t.tx.Exec(t.ctx, `UPDATE api_keys SET role = $3, name = $4, groups_json = $5, bindings_json = $6,
		expires_us = $7, revoked_us = $8 WHERE tenant_id = $1 AND id = $2`,
		t.tenant, k.ID, string(k.Role), k.Name, groups, bindings, optMicros(k.Expires), optMicros(k.Revoked))
	if err != nil {
		return fmt.Errorf("update key %s: %w", k.ID, err)
	}
	if n := tag.RowsAffected(); n != 1 {
		return fmt.Errorf("update key %s: %d rows changed, want 1", k.ID, n)
	}
	return nil
}

// KeyForUpdate reads a key of the transaction's tenant.
func (t *appendTx) KeyForUpdate(id string) (*access.Key, error) {
	return scanKey(t.tx.QueryRow(t.ctx, sqlKeyColumns+" WHERE k.tenant_id = $1 AND k.id = $2", t.tenant, id), id)
}

// InsertTenant stores a tenant in the append transaction of its
// tenant.created entry.
func (t *appendTx) InsertTenant(tn *access.Tenant) error {
	if tn.ID != t.tenant {
		return fmt.Errorf("insert tenant %q into the log of %q", tn.ID, t.tenant)
	}
	settings, err := json.Marshal(tn.Settings)
	if err != nil {
		return fmt.Errorf("tenant %q settings: %w", tn.ID, err)
	}
	_, err = t.tx.Exec(t.ctx,
		"INSERT INTO tenants (tenant_id, name, status, created_us, settings_json) VALUES ($1, $2, $3, $4, $5)",
		tn.ID, tn.Name, tn.Status, micros(tn.Created), string(settings))
	if err != nil {
		return fmt.Errorf("insert tenant %q: %w", tn.ID, err)
	}
	return nil
}

// TenantForUpdate reads the transaction's tenant.
func (t *appendTx) TenantForUpdate() (*access.Tenant, error) {
	return scanTenant(t.tx.QueryRow(t.ctx, sqlTenantColumns+" WHERE tenant_id = $1", t.tenant), t.tenant)
}

// SetTenantStatus changes the transaction's tenant's status.
func (t *appendTx) SetTenantStatus(status string) error {
	return t.updateTenant("UPDATE tenants SET status = $2 WHERE tenant_id = $1", status)
}

// SetTenantSettings replaces the transaction's tenant's settings.
func (t *appendTx) SetTenantSettings(st access.Settings) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("tenant %q settings: %w", t.tenant, err)
	}
	return t.updateTenant("UPDATE tenants SET settings_json = $2 WHERE tenant_id = $1", string(raw))
}

func (t *appendTx) updateTenant(query string, v any) error {
	tag, err := t.tx.Exec(t.ctx, query, t.tenant, v)
	if err != nil {
		return fmt.Errorf("update tenant %q: %w", t.tenant, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("update tenant %q: %w", t.tenant, access.ErrNotFound)
	}
	return nil
}

// sqlKeyColumns reads a key with its tenant's status.
const sqlKeyColumns = `SELECT k.tenant_id, k.id, k.role, k.name, k.hash, k.created_us, k.expires_us, k.revoked_us,
	k.last_used_us, k.groups_json, k.bindings_json, COALESCE(t.status, '')
	FROM api_keys k LEFT JOIN tenants t ON t.tenant_id = k.tenant_id`

// sqlKeyByID is every request's key lookup. It is one constant text, so
// the pool's statement cache prepares it once per connection.
const sqlKeyByID = sqlKeyColumns + " WHERE k.id = $1"

func scanKey(row pgx.Row, id string) (*access.Key, error) {
	var (
		k                          access.Key
		role, groups, bindings     string
		hash                       []byte
		created                    int64
		expires, revoked, lastUsed *int64
	)
	err := row.Scan(&k.Tenant, &k.ID, &role, &k.Name, &hash, &created, &expires, &revoked, &lastUsed,
		&groups, &bindings, &k.TenantStatus)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("key %s: %w", id, access.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", id, err)
	}
	if len(hash) != len(k.Hash) {
		return nil, fmt.Errorf("key %s: stored hash has %d bytes", k.ID, len(hash))
	}
	if err := json.Unmarshal([]byte(groups), &k.Groups); err != nil {
		return nil, fmt.Errorf("key %s groups: %w", k.ID, err)
	}
	if err := json.Unmarshal([]byte(bindings), &k.Bindings); err != nil {
		return nil, fmt.Errorf("key %s bindings: %w", k.ID, err)
	}
	if len(k.Groups) == 0 {
		k.Groups = nil
	}
	if len(k.Bindings) == 0 {
		k.Bindings = nil
	}
	copy(k.Hash[:], hash)
	k.Role = access.Role(role)
	k.Created = fromMicros(created)
	k.Expires, k.Revoked, k.LastUsed = optTime(expires), optTime(revoked), optTime(lastUsed)
	return &k, nil
}

// KeyByID returns the stored key with id, in whatever tenant it lives,
// with its tenant's status.
func (db *DB) KeyByID(ctx context.Context, id string) (*access.Key, error) {
	return scanKey(db.pool.QueryRow(ctx, sqlKeyByID, id), id)
}

// Keys returns a tenant's keys with id after after, in id order.
func (db *DB) Keys(ctx context.Context, tenant, after string, limit int) ([]access.Key, error) {
	rows, err := db.pool.Query(ctx, sqlKeyColumns+" WHERE k.tenant_id = $1 AND k.id > $2 ORDER BY k.id LIMIT $3",
		tenant, after, limit)
	if err != nil {
		return nil, fmt.Errorf("keys of %q: %w", tenant, err)
	}
	defer rows.Close()
	var out []access.Key
	for rows.Next() {
		k, err := scanKey(rows, "")
		if err != nil {
			return nil, fmt.Errorf("keys of %q: %w", tenant, err)
		}
		out = append(out, *k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("keys of %q: %w", tenant, err)
	}
	return out, nil
}

// TouchKey records that key id was used at at (never moving it back).
func (db *DB) TouchKey(ctx context.Context, id string, at time.Time) error {
	_, err := db.pool.Exec(ctx, "UPDATE api_keys SET last_used_us = $2 WHERE id = $1 AND (last_used_us IS NULL OR last_used_us < $2)",
		id, micros(at))
	if err != nil {
		return fmt.Errorf("touch key %s: %w", id, err)
	}
	return nil
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

const sqlTenantColumns = "SELECT tenant_id, name, status, created_us, settings_json FROM tenants"

func scanTenant(row pgx.Row, id string) (*access.Tenant, error) {
	var (
		tn       access.Tenant
		created  int64
		settings string
	)
	err := row.Scan(&tn.ID, &tn.Name, &tn.Status, &created, &settings)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("tenant %q: %w", id, access.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("tenant %q: %w", id, err)
	}
	tn.Created = fromMicros(created)
	// Settings absent from the stored object keep their defaults.
	tn.Settings = access.DefaultSettings
	if err := json.Unmarshal([]byte(settings), &tn.Settings); err != nil {
		return nil, fmt.Errorf("tenant %q settings: %w", tn.ID, err)
	}
	return &tn, nil
}

// Tenant returns a stored tenant with its settings.
func (db *DB) Tenant(ctx context.Context, id string) (*access.Tenant, error) {
	return scanTenant(db.pool.QueryRow(ctx, sqlTenantColumns+" WHERE tenant_id = $1", id), id)
}

// TenantList returns tenants with id after after, in id order.
func (db *DB) TenantList(ctx context.Context, after string, limit int) ([]access.Tenant, error) {
	rows, err := db.pool.Query(ctx, sqlTenantColumns+" WHERE tenant_id > $1 ORDER BY tenant_id LIMIT $2", after, limit)
	if err != nil {
		return nil, fmt.Errorf("tenants: %w", err)
	}
	defer rows.Close()
	var out []access.Tenant
	for rows.Next() {
		tn, err := scanTenant(rows, "")
		if err != nil {
			return nil, fmt.Errorf("tenants: %w", err)
		}
		out = append(out, *tn)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tenants: %w", err)
	}
	return out, nil
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

// SetMeta stores an installation setting, replacing its value (the key
// history after a rotation).
func (db *DB) SetMeta(ctx context.Context, key, value string) error {
	if _, err := db.pool.Exec(ctx, `INSERT INTO meta (tenant_id, key, value) VALUES ('_system', $1, $2)
		ON CONFLICT (tenant_id, key) DO UPDATE SET value = EXCLUDED.value`, key, value); err != nil {
		return fmt.Errorf("set setting %q: %w", key, err)
	}
	return nil
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
