// Package access holds Warden's access model: API key format and hashing,
// roles, and the permission table every route consults.
package access

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/policy"
)

// Key format: "wdn_<id>_<secret>", id and secret in lower-case base32
// without padding. The secret has 256 bits.
const (
	keyPrefix   = "wdn_"
	idBytes     = 10
	secretBytes = 32
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// ErrSuspended is returned for a valid key of a suspended tenant.
var ErrSuspended = errors.New("the key's tenant is suspended")

// ErrBadKey is returned for a presented key that is malformed, unknown,
// revoked, expired or wrong. Callers MUST NOT tell these apart to clients.
var ErrBadKey = errors.New("invalid API key")

// Key is a stored API key. It holds the hash of the secret, never the
// secret itself.
type Key struct {
	ID     string
	Tenant string
	Role   Role
	Name   string
	// Groups are labels (approver groups, teams); Bindings are the
	// principal ids or globs an agent key may speak for.
	Groups   []string
	Bindings []string
	Hash     [32]byte
	Created  time.Time
	Expires  *time.Time
	Revoked  *time.Time
	LastUsed *time.Time
	// TenantStatus is the status of the key's tenant, read with the key
	// (KeyByID), so that a suspended tenant's keys stop at once.
	TenantStatus string
}

// String names the key without its hash, for logs and errors.
func (k *Key) String() string { return fmt.Sprintf("key %s (%s, tenant %s)", k.ID, k.Role, k.Tenant) }

// NewKey makes a key for tenant with role and name, reading randomness from
// rand. It returns the stored form and the presentable key, which MUST be
// shown once and never stored or logged.
func NewKey(rand io.Reader, tenant string, role Role, name string, now time.Time) (*Key, string, error) {
	if !role.Valid() {
		return nil, "", fmt.Errorf("new key: unknown role %q", role)
	}
	buf := make([]byte, idBytes+secretBytes)
	if _, err := io.ReadFull(rand, buf); err != nil {
		return nil, "", fmt.Errorf("new key: read random: %w", err)
	}
	id := strings.ToLower(b32.EncodeToString(buf[:idBytes]))
	secret := strings.ToLower(b32.EncodeToString(buf[idBytes:]))
	k := &Key{ID: id, Tenant: tenant, Role: role, Name: name, Hash: hashSecret(id, secret), Created: now.UTC()}
	return k, keyPrefix + id + "_" + secret, nil
}

// ParseKey splits a presented key into its id and secret.
func ParseKey(s string) (id, secret string, err error) {
	rest, ok := strings.CutPrefix(s, keyPrefix)
	if !ok {
		return "", "", ErrBadKey
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || !isB32(id, idBytes) || !isB32(secret, secretBytes) {
		return "", "", ErrBadKey
	}
	return id, secret, nil
}

// keyLength is the length of a presentable key.
var keyLength = len(keyPrefix) + b32.EncodedLen(idBytes) + 1 + b32.EncodedLen(secretBytes)

// HoldsKey reports whether s contains a presentable Warden key.
func HoldsKey(s string) bool {
	for i := 0; ; i++ {
		j := strings.Index(s[i:], keyPrefix)
		if j < 0 {
			return false
		}
		i += j
		if end := i + keyLength; end <= len(s) {
			if _, _, err := ParseKey(s[i:end]); err == nil {
				return true
			}
		}
	}
}

func isB32(s string, n int) bool {
	if len(s) != b32.EncodedLen(n) {
		return false
	}
	b, err := b32.DecodeString(strings.ToUpper(s))
	return err == nil && len(b) == n && strings.ToLower(s) == s
}

// hashSecret binds the secret to its id, so a hash cannot be moved to
// another key row.
func hashSecret(id, secret string) [32]byte {
	return sha256.Sum256([]byte("warden api key v1\x00" + id + "\x00" + secret))
}

// Matches reports in constant time whether secret is this key's secret.
func (k *Key) Matches(secret string) bool {
	h := hashSecret(k.ID, secret)
	return subtle.ConstantTimeCompare(h[:], k.Hash[:]) == 1
}

// Usable reports whether the key may authenticate at now.
func (k *Key) Usable(now time.Time) bool {
	return k.Revoked == nil && (k.Expires == nil || now.Before(*k.Expires))
}

// SpeaksFor reports whether the key may act for the principal: an agent
// key for the ids its bindings match, every other role that may
// evaluate for any principal.
func (k *Key) SpeaksFor(principal string) bool {
	if k.Role != RoleAgent {
		return true
	}
	for _, b := range k.Bindings {
		if g, err := policy.CompileGlob(b); err == nil && g.Match(principal) {
			return true
		}
	}
	return false
}

// KeyReader finds stored keys by id.
type KeyReader interface {
	KeyByID(ctx context.Context, id string) (*Key, error)
}

// KeyWriter stores a new key. Stores implement it on their append
// transaction, so that a key exists exactly when its key.created entry does.
type KeyWriter interface {
	InsertKey(k *Key) error
}

// Authenticate checks a presented key against the stored keys and returns
// the stored key. Every failure is ErrBadKey.
func Authenticate(ctx context.Context, r KeyReader, presented string, now time.Time) (*Key, error) {
	id, secret, err := ParseKey(presented)
	if err != nil {
		return nil, ErrBadKey
	}
	k, err := r.KeyByID(ctx, id)
	if err != nil || k == nil {
		if err != nil && !isNotFound(err) {
			return nil, fmt.Errorf("authenticate key %s: %w", id, err)
		}
		// Spend the same work as a real comparison.
		dummy := Key{ID: id}
		dummy.Matches(secret)
		return nil, ErrBadKey
	}
	if !k.Matches(secret) || !k.Usable(now) {
		return nil, ErrBadKey
	}
	if k.TenantStatus == TenantSuspended {
		return nil, ErrSuspended
	}
	return k, nil
}

// ErrNotFound is what KeyReader implementations return for an unknown id.
var ErrNotFound = errors.New("key not found")

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
