package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wardenhq/warden/internal/policy"
)

var (
	_ policy.VersionWriter = (*appendTx)(nil)
	_ policy.VersionReader = (*DB)(nil)
)

const versionColumns = "tenant_id, name, version, digest, source, author, created_us"

func scanVersion(sc interface{ Scan(...any) error }) (*policy.Version, error) {
	var v policy.Version
	var us int64
	if err := sc.Scan(&v.Tenant, &v.Name, &v.Version, &v.Digest, &v.Source, &v.Author, &us); err != nil {
		return nil, err
	}
	v.Created = fromMicros(us)
	return &v, nil
}

func notFoundVersion(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, policy.ErrNoVersion)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// PolicyVersionByDigest finds, inside the append transaction, a version of
// name with this content.
func (t *appendTx) PolicyVersionByDigest(name, digest string) (*policy.Version, error) {
	v, err := scanVersion(t.tx.QueryRowContext(t.ctx, "SELECT "+versionColumns+
		" FROM policy_versions WHERE tenant_id = ? AND name = ? AND digest = ?", t.tenant, name, digest))
	if err != nil {
		return nil, notFoundVersion(err, fmt.Sprintf("policy %q digest %s", name, digest))
	}
	return v, nil
}

// LatestPolicyVersion returns, inside the append transaction, the highest
// version of name (0 if none).
func (t *appendTx) LatestPolicyVersion(name string) (int64, error) {
	var n int64
	err := t.tx.QueryRowContext(t.ctx, "SELECT COALESCE(MAX(version), 0) FROM policy_versions WHERE tenant_id = ? AND name = ?",
		t.tenant, name).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("latest version of policy %q: %w", name, err)
	}
	return n, nil
}

// InsertPolicyVersion stores a version in the append transaction of its
// policy.version entry.
func (t *appendTx) InsertPolicyVersion(v *policy.Version) error {
	if v.Tenant != t.tenant {
		return fmt.Errorf("insert policy %q of %q into the log of %q", v.Name, v.Tenant, t.tenant)
	}
	_, err := t.tx.ExecContext(t.ctx, "INSERT INTO policy_versions ("+versionColumns+") VALUES (?, ?, ?, ?, ?, ?, ?)",
		v.Tenant, v.Name, v.Version, v.Digest, v.Source, v.Author, micros(v.Created))
	if err != nil {
		return fmt.Errorf("insert policy %q version %d: %w", v.Name, v.Version, err)
	}
	return nil
}

// SetActivePolicy makes a version active in the append transaction of its
// policy.activated entry. The version must exist.
func (t *appendTx) SetActivePolicy(a *policy.Active) error {
	var n int
	if err := t.tx.QueryRowContext(t.ctx, "SELECT COUNT(*) FROM policy_versions WHERE tenant_id = ? AND name = ? AND version = ?",
		t.tenant, a.Name, a.Version).Scan(&n); err != nil {
		return fmt.Errorf("activate policy %q version %d: %w", a.Name, a.Version, err)
	}
	if n == 0 {
		return fmt.Errorf("activate policy %q version %d: %w", a.Name, a.Version, policy.ErrNoVersion)
	}
	t.stateChanged = true
	_, err := t.tx.ExecContext(t.ctx, `INSERT INTO policy_active (tenant_id, name, version, activated_us, activated_by)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id) DO UPDATE SET name = excluded.name, version = excluded.version,
		activated_us = excluded.activated_us, activated_by = excluded.activated_by`,
		t.tenant, a.Name, a.Version, micros(a.Activated), a.By)
	if err != nil {
		return fmt.Errorf("activate policy %q version %d: %w", a.Name, a.Version, err)
	}
	if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO policy_activations (tenant_id, name, version, activated_us, activated_by)
		VALUES (?, ?, ?, ?, ?)`, t.tenant, a.Name, a.Version, micros(a.Activated), a.By); err != nil {
		return fmt.Errorf("activate policy %q version %d: %w", a.Name, a.Version, err)
	}
	return nil
}

// PolicyApprovers returns the keys that approved a version.
func (t *appendTx) PolicyApprovers(name string, version int64) ([]string, error) {
	rows, err := t.tx.QueryContext(t.ctx, "SELECT key_id FROM policy_approvals WHERE tenant_id = ? AND name = ? AND version = ? ORDER BY time_us, key_id",
		t.tenant, name, version)
	if err != nil {
		return nil, fmt.Errorf("approvals of %q version %d: %w", name, version, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// AddPolicyApproval records a key's approval of a version.
func (t *appendTx) AddPolicyApproval(name string, version int64, key string, at time.Time) error {
	if _, err := t.tx.ExecContext(t.ctx, "INSERT INTO policy_approvals (tenant_id, name, version, key_id, time_us) VALUES (?, ?, ?, ?, ?)",
		t.tenant, name, version, key, micros(at)); err != nil {
		return fmt.Errorf("approve %q version %d: %w", name, version, err)
	}
	return nil
}

// SetCandidate makes a version the tenant's candidate, or clears it.
func (t *appendTx) SetCandidate(a *policy.Active) error {
	if a == nil {
		if _, err := t.tx.ExecContext(t.ctx, "DELETE FROM policy_candidate WHERE tenant_id = ?", t.tenant); err != nil {
			return fmt.Errorf("clear candidate of %q: %w", t.tenant, err)
		}
		return nil
	}
	_, err := t.tx.ExecContext(t.ctx, `INSERT INTO policy_candidate (tenant_id, name, version, set_us, set_by) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id) DO UPDATE SET name = excluded.name, version = excluded.version, set_us = excluded.set_us,
		set_by = excluded.set_by`, t.tenant, a.Name, a.Version, micros(a.Activated), a.By)
	if err != nil {
		return fmt.Errorf("candidate %q version %d: %w", a.Name, a.Version, err)
	}
	return nil
}

const sqlCandidate = "SELECT name, version, set_us, set_by FROM policy_candidate WHERE tenant_id = ?"

// CandidatePolicy returns the tenant's candidate.
func (db *DB) CandidatePolicy(ctx context.Context, tenant string) (*policy.Active, error) {
	var a policy.Active
	var us int64
	if err := db.queryRow(ctx, sqlCandidate, tenant).Scan(&a.Name, &a.Version, &us, &a.By); err != nil {
		return nil, notFoundVersion(err, fmt.Sprintf("candidate policy of %q", tenant))
	}
	a.Activated = fromMicros(us)
	return &a, nil
}

// PolicyApprovals returns who approved a version and when.
func (db *DB) PolicyApprovals(ctx context.Context, tenant, name string, version int64) ([]policy.VersionApproval, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT key_id, time_us FROM policy_approvals WHERE tenant_id = ? AND name = ? AND version = ? ORDER BY time_us, key_id",
		tenant, name, version)
	if err != nil {
		return nil, fmt.Errorf("approvals of %q version %d: %w", name, version, err)
	}
	defer rows.Close()
	out := []policy.VersionApproval{}
	for rows.Next() {
		var a policy.VersionApproval
		var us int64
		if err := rows.Scan(&a.Key, &us); err != nil {
			return nil, err
		}
		a.At = fromMicros(us)
		out = append(out, a)
	}
	return out, rows.Err()
}

// Activations returns the tenant's activation history, newest first
// (the later recorded first when their times are equal).
func (db *DB) Activations(ctx context.Context, tenant string, limit int) ([]policy.Active, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT name, version, activated_us, activated_by FROM policy_activations
		WHERE tenant_id = ? ORDER BY activated_us DESC, rowid DESC LIMIT ?`, tenant, limit)
	if err != nil {
		return nil, fmt.Errorf("activations of %q: %w", tenant, err)
	}
	defer rows.Close()
	out := []policy.Active{}
	for rows.Next() {
		var a policy.Active
		var us int64
		if err := rows.Scan(&a.Name, &a.Version, &us, &a.By); err != nil {
			return nil, err
		}
		a.Activated = fromMicros(us)
		out = append(out, a)
	}
	return out, rows.Err()
}

const (
	sqlActivePolicy  = "SELECT name, version, activated_us, activated_by FROM policy_active WHERE tenant_id = ?"
	sqlPolicyVersion = "SELECT " + versionColumns + " FROM policy_versions WHERE tenant_id = ? AND name = ? AND version = ?"
)

// PolicyVersion returns one stored version.
func (db *DB) PolicyVersion(ctx context.Context, tenant, name string, version int64) (*policy.Version, error) {
	v, err := scanVersion(db.queryRow(ctx, sqlPolicyVersion, tenant, name, version))
	if err != nil {
		return nil, notFoundVersion(err, fmt.Sprintf("policy %q version %d", name, version))
	}
	return v, nil
}

// PolicyVersions returns every version of name, oldest first (all names
// when name is empty).
func (db *DB) PolicyVersions(ctx context.Context, tenant, name string) ([]policy.Version, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT "+versionColumns+
		" FROM policy_versions WHERE tenant_id = ? AND (? = '' OR name = ?) ORDER BY name, version", tenant, name, name)
	if err != nil {
		return nil, fmt.Errorf("policy versions of %q: %w", tenant, err)
	}
	defer rows.Close()
	var out []policy.Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("policy versions of %q: %w", tenant, err)
		}
		out = append(out, *v)
	}
	return out, rows.Err()
}

// ActivePolicy returns the tenant's active policy version.
func (db *DB) ActivePolicy(ctx context.Context, tenant string) (*policy.Active, error) {
	if db.cache == nil {
		return db.readActivePolicy(ctx, tenant)
	}
	if a, ok := db.cache.activePolicy(tenant); ok {
		return a, nil
	}
	gen := db.cache.gen.Load() // before the read: see stateCache
	a, err := db.readActivePolicy(ctx, tenant)
	if err == nil {
		db.cache.keepActive(gen, tenant, a)
	}
	return a, err
}

func (db *DB) readActivePolicy(ctx context.Context, tenant string) (*policy.Active, error) {
	var a policy.Active
	var us int64
	err := db.queryRow(ctx, sqlActivePolicy, tenant).
		Scan(&a.Name, &a.Version, &us, &a.By)
	if err != nil {
		return nil, notFoundVersion(err, fmt.Sprintf("active policy of %q", tenant))
	}
	a.Activated = fromMicros(us)
	return &a, nil
}
