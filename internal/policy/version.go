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
	SetActivePolicy(a *Active) error
}

// VersionReader reads stored versions.
type VersionReader interface {
	PolicyVersion(ctx context.Context, tenant, name string, version int64) (*Version, error)
	PolicyVersions(ctx context.Context, tenant, name string) ([]Version, error)
	ActivePolicy(ctx context.Context, tenant string) (*Active, error)
}
