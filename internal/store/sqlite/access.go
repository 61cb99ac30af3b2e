package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wardenhq/warden/internal/access"
)

var (
	_ access.Tx     = (*appendTx)(nil)
	_ access.Reader = (*DB)(nil)
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
	groups, bindings, err := keyLists(k)
	if err != nil {
		return err
	}
	t.stateChanged = true
	_, err = t.tx.ExecContext(t.ctx, `INSERT INTO api_keys
		(tenant_id, id, role, name, hash, created_us, expires_us, groups_json, bindings_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.Tenant, k.ID, string(k.Role), k.Name, k.Hash[:], micros(k.Created), nullMicros(k.Expires), groups, bindings)
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
	t.stateChanged = true
	res, err := t.tx.ExecContext(t.ctx, `UPDATE api_keys SET role = ?, name = ?, groups_json = ?, bindings_json = ?,
		expires_us = ?, revoked_us = ? WHERE tenant_id = ? AND id = ?`,
		string(k.Role), k.Name, groups, bindings, nullMicros(k.Expires), nullMicros(k.Revoked), t.tenant, k.ID)
	if err != nil {
		return fmt.Errorf("update key %s: %w", k.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("update key %s: %d rows, %v", k.ID, n, err)
	}
	return nil
}

// KeyForUpdate reads a key of the transaction's tenant.
func (t *appendTx) KeyForUpdate(id string) (*access.Key, error) {
	return scanKey(t.tx.QueryRowContext(t.ctx, sqlKeyColumns+" WHERE k.tenant_id = ? AND k.id = ?", t.tenant, id), id)
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
	t.stateChanged = true
	_, err = t.tx.ExecContext(t.ctx,
		"INSERT INTO tenants (tenant_id, name, status, created_us, settings_json) VALUES (?, ?, ?, ?, ?)",
		tn.ID, tn.Name, tn.Status, micros(tn.Created), string(settings))
	if err != nil {
		return fmt.Errorf("insert tenant %q: %w", tn.ID, err)
	}
	return nil
}

// TenantForUpdate reads the transaction's tenant.
func (t *appendTx) TenantForUpdate() (*access.Tenant, error) {
	return scanTenant(t.tx.QueryRowContext(t.ctx, sqlTenantColumns+" WHERE tenant_id = ?", t.tenant), t.tenant)
}

// SetTenantStatus changes the transaction's tenant's status.
func (t *appendTx) SetTenantStatus(status string) error {
	return t.updateTenant("status = ?", status)
}

// SetTenantSettings replaces the transaction's tenant's settings.
func (t *appendTx) SetTenantSettings(st access.Settings) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("tenant %q settings: %w", t.tenant, err)
	}
	return t.updateTenant("settings_json = ?", string(raw))
}

func (t *appendTx) updateTenant(set string, v any) error {
	t.stateChanged = true // a key is read with its tenant's status
	res, err := t.tx.ExecContext(t.ctx, "UPDATE tenants SET "+set+" WHERE tenant_id = ?", v, t.tenant)
	if err != nil {
		return fmt.Errorf("update tenant %q: %w", t.tenant, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("update tenant %q: %w", t.tenant, access.ErrNotFound)
	}
	return nil
}

// sqlKeyColumns reads a key with its tenant's status.
const sqlKeyColumns = `SELECT k.tenant_id, k.id, k.role, k.name, k.hash, k.created_us, k.expires_us, k.revoked_us,
	k.last_used_us, k.groups_json, k.bindings_json, COALESCE(t.status, '')
	FROM api_keys k LEFT JOIN tenants t ON t.tenant_id = k.tenant_id`

const sqlKeyByID = sqlKeyColumns + " WHERE k.id = ?"

func scanKey(row scanner, id string) (*access.Key, error) {
	var (
		k                          access.Key
		role, groups, bindings     string
		hash                       []byte
		created                    int64
		expires, revoked, lastUsed sql.NullInt64
	)
	err := row.Scan(&k.Tenant, &k.ID, &role, &k.Name, &hash, &created, &expires, &revoked, &lastUsed, &groups, &bindings, &k.TenantStatus)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("key %s: %w", id, access.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", id, err)
	}
	if len(hash) != len(k.Hash) {
		return nil, fmt.Errorf("key %s: stored hash has %d bytes", id, len(hash))
	}
	// Most keys have neither: "[]" needs no decoding on every request.
	if groups != "[]" {
		if err := json.Unmarshal([]byte(groups), &k.Groups); err != nil {
			return nil, fmt.Errorf("key %s groups: %w", id, err)
		}
	}
	if bindings != "[]" {
		if err := json.Unmarshal([]byte(bindings), &k.Bindings); err != nil {
			return nil, fmt.Errorf("key %s bindings: %w", id, err)
		}
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
	k.Expires, k.Revoked, k.LastUsed = timePtr(expires), timePtr(revoked), timePtr(lastUsed)
	return &k, nil
}

// KeyByID returns the stored key with id, in whatever tenant it lives,
// with its tenant's status.
func (db *DB) KeyByID(ctx context.Context, id string) (*access.Key, error) {
	if db.cache == nil {
		return scanKey(db.queryRow(ctx, sqlKeyByID, id), id)
	}
	if k, ok := db.cache.key(id); ok {
		return k, nil
	}
	gen := db.cache.gen.Load() // before the read: see stateCache
	k, err := scanKey(db.queryRow(ctx, sqlKeyByID, id), id)
	if err == nil {
		db.cache.keepKey(gen, k)
	}
	return k, err
}

// Keys returns a tenant's keys with id after after, in id order.
func (db *DB) Keys(ctx context.Context, tenant, after string, limit int) ([]access.Key, error) {
	rows, err := db.r.QueryContext(ctx, sqlKeyColumns+" WHERE k.tenant_id = ? AND k.id > ? ORDER BY k.id LIMIT ?", tenant, after, limit)
	if err != nil {
		return nil, fmt.Errorf("keys of %q: %w", tenant, err)
	}
	defer rows.Close()
	var out []access.Key
	for rows.Next() {
		k, err := scanKey(rows, "")
		if err != nil {
			return nil, err
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
	if db.w == nil {
		return errors.New("touch key: store opened read-only")
	}
	_, err := db.w.ExecContext(ctx, "UPDATE api_keys SET last_used_us = ? WHERE id = ? AND (last_used_us IS NULL OR last_used_us < ?)",
		micros(at), id, micros(at))
	if err != nil {
		return fmt.Errorf("touch key %s: %w", id, err)
	}
	if db.cache != nil {
		db.cache.touched(id, at)
	}
	return nil
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

const sqlTenantColumns = "SELECT tenant_id, name, status, created_us, settings_json FROM tenants"

func scanTenant(row scanner, id string) (*access.Tenant, error) {
	var (
		tn       access.Tenant
		created  int64
		settings string
	)
	err := row.Scan(&tn.ID, &tn.Name, &tn.Status, &created, &settings)
	if errors.Is(err, sql.ErrNoRows) {
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
	return scanTenant(db.r.QueryRowContext(ctx, sqlTenantColumns+" WHERE tenant_id = ?", id), id)
}

// TenantList returns tenants with id after after, in id order.
func (db *DB) TenantList(ctx context.Context, after string, limit int) ([]access.Tenant, error) {
	rows, err := db.r.QueryContext(ctx, sqlTenantColumns+" WHERE tenant_id > ? ORDER BY tenant_id LIMIT ?", after, limit)
	if err != nil {
		return nil, fmt.Errorf("tenants: %w", err)
	}
	defer rows.Close()
	var out []access.Tenant
	for rows.Next() {
		tn, err := scanTenant(rows, "")
		if err != nil {
			return nil, err
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
	err := db.r.QueryRowContext(ctx, "SELECT value FROM meta WHERE tenant_id = '_system' AND key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
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
	if db.w == nil {
		return fmt.Errorf("set setting %q: store opened read-only", key)
	}
	if _, err := db.w.ExecContext(ctx, `INSERT INTO meta (tenant_id, key, value) VALUES ('_system', ?, ?)
		ON CONFLICT (tenant_id, key) DO UPDATE SET value = excluded.value`, key, value); err != nil {
		return fmt.Errorf("set setting %q: %w", key, err)
	}
	return nil
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
