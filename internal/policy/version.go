package policy

import (
	"context"
	"errors"
	"time"
)

// Version is one stored version of a named policy: immutable once made.
// Versions are integers per name from 1; the digest identifies content, so
// pushing identical content returns the existing version.
type Version struct {
	Tenant  string
	Name    string
	Version int64
	Digest  string
	Source  []byte // the document as pushed (YAML or JSON)
	Author  string // key id
	Created time.Time
}

// Active is the version a tenant evaluates with, and since when.
type Active struct {
	Name      string
	Version   int64
	Activated time.Time
	By        string
}

// ErrNoVersion is returned (wrapped) for a version or an active policy
// that does not exist.
var ErrNoVersion = errors.New("no such policy version")

// VersionWriter is what the append transaction of a policy entry offers,
// so that a version exists exactly when its policy.version entry does and
// an activation exactly when its policy.activated entry does.
type VersionWriter interface {
	// PolicyVersionByDigest finds an existing version with this content.
	PolicyVersionByDigest(name, digest string) (*Version, error)
	// LatestPolicyVersion returns the highest version number of name (0
	// if none).
	LatestPolicyVersion(name string) (int64, error)
	InsertPolicyVersion(v *Version) error
	// SetActivePolicy makes a version active and adds it to the tenant's
	// activation history.
	SetActivePolicy(a *Active) error
	// PolicyApprovers returns the keys that approved a version.
	PolicyApprovers(name string, version int64) ([]string, error)
	AddPolicyApproval(name string, version int64, key string, at time.Time) error
	// SetCandidate makes a version the tenant's candidate (nil clears it).
	SetCandidate(a *Active) error
}

// VersionReader reads stored versions.
type VersionReader interface {
	PolicyVersion(ctx context.Context, tenant, name string, version int64) (*Version, error)
	PolicyVersions(ctx context.Context, tenant, name string) ([]Version, error)
	ActivePolicy(ctx context.Context, tenant string) (*Active, error)
	// CandidatePolicy returns the tenant's candidate (ErrNoVersion: none).
	CandidatePolicy(ctx context.Context, tenant string) (*Active, error)
	// PolicyApprovals returns who approved a version and when.
	PolicyApprovals(ctx context.Context, tenant, name string, version int64) ([]VersionApproval, error)
	// Activations returns the tenant's activation history, newest first,
	// at most limit.
	Activations(ctx context.Context, tenant string, limit int) ([]Active, error)
}

// VersionApproval is one key's approval of a policy version.
type VersionApproval struct {
	Key string
	At  time.Time
}
