// Package event defines the typed body of every ledger entry kind, in one
// registry shared by the services that write entries and the readers
// (monitor, evidence, verifiers) that decode them.
package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"

	"github.com/wardenhq/warden/internal/ledger"
)

// Kinds of ledger entries. Later capabilities register theirs here.
const (
	KindTenantCreated = "tenant.created"
	KindKeyCreated    = "key.created"
)

// Actors that are not keys.
const (
	ActorSystem  = "system"
	ActorMonitor = "monitor"
)

// TenantCreated records the creation of a tenant (in its own log, and for
// user tenants also in the _system log).
type TenantCreated struct {
	TenantID string `json:"tenant_id"`
	Name     string `json:"name"`
}

// KeyCreated records the creation of an API key. It never holds the key's
// secret or its hash.
type KeyCreated struct {
	KeyID    string `json:"key_id"`
	TenantID string `json:"tenant_id"`
	Role     string `json:"role"`
	Name     string `json:"name"`
}

var registry = map[string]reflect.Type{
	KindTenantCreated: reflect.TypeFor[TenantCreated](),
	KindKeyCreated:    reflect.TypeFor[KeyCreated](),
}

// Kinds returns every registered kind, sorted.
func Kinds() []string {
	ks := make([]string, 0, len(registry))
	for k := range registry {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// New returns a ledger request for kind with body, checking that body is
// the registered body type of kind.
func New(kind, actor string, body any) (ledger.Request, error) {
	t, ok := registry[kind]
	if !ok {
		return ledger.Request{}, fmt.Errorf("event: unknown kind %q", kind)
	}
	if got := reflect.TypeOf(body); got != t && got != reflect.PointerTo(t) {
		return ledger.Request{}, fmt.Errorf("event: kind %q takes %s, not %v", kind, t, got)
	}
	return ledger.Request{Kind: kind, Actor: actor, Body: body}, nil
}

// Decode strictly decodes the body of an entry of a registered kind into a
// new value of its type (a pointer).
func Decode(kind string, body []byte) (any, error) {
	t, ok := registry[kind]
	if !ok {
		return nil, fmt.Errorf("event: unknown kind %q", kind)
	}
	v := reflect.New(t)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v.Interface()); err != nil {
		return nil, fmt.Errorf("event: decode %s body: %w", kind, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("event: decode %s body: trailing data", kind)
	}
	return v.Interface(), nil
}
