package storetest

import (
	"context"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
)

// metaStore is a store that keeps installation settings (both do).
type metaStore interface {
	Meta(ctx context.Context, key string) (string, error)
	SetMeta(ctx context.Context, key, value string) error
}

// testKeyRotation hands a log over from one signing key to the next the
// way 'warden log rotate-key' does, and verifies it with the history.
func testKeyRotation(t *testing.T, h *harness) {
	ctx := context.Background()
	oldKey, _, err := ledger.GenerateKey(Origin)
	if err != nil {
		t.Fatal(err)
	}
	newKey, _, err := ledger.GenerateKey(Origin)
	if err != nil {
		t.Fatal(err)
	}
	oldV, _ := ledger.VerifierKey(oldKey)
	newV, _ := ledger.VerifierKey(newKey)
	oldS, _ := note.NewSigner(oldKey)
	newS, _ := note.NewSigner(newKey)
	oldVer, _ := note.NewVerifier(oldV)
	newVer, _ := note.NewVerifier(newV)

	before, err := ledger.New(h.Store, ledger.Config{Origin: Origin, Signer: oldS})
	if err != nil {
		t.Fatal(err)
	}
	AppendN(t, before, TenantA, 5)
	req, err := event.New(event.KindLogKeyRotated, event.ActorSystem, &event.LogKeyRotated{OldKey: oldV, NewKey: newV})
	if err != nil {
		t.Fatal(err)
	}
	ack, err := before.Append(ctx, TenantA, req)
	if err != nil {
		t.Fatalf("Append(signing_key.rotated) = %v, want nil", err)
	}
	if cp, err := before.Checkpointer().Sign(ctx, TenantA); err != nil || cp.Size != ack.Seq+1 {
		t.Fatalf("Sign(handover) = %v, %v; want size %d", cp, err, ack.Seq+1)
	}
	if err := before.Close(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := ledger.New(h.Store, ledger.Config{Origin: Origin, Signer: newS})
	if err != nil {
		t.Fatal(err)
	}
	AppendN(t, after, TenantA, 3)
	if err := after.Close(ctx); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		keys   []note.Verifier
		reason string
	}{
		{"history", []note.Verifier{oldVer, newVer}, ""},
		{"new key only", []note.Verifier{newVer}, "not signed by a trusted key"},
		{"old key only", []note.Verifier{oldVer}, "not signed by a trusted key"},
	} {
		rep, err := ledger.VerifyStore(ctx, h.Store, ledger.VerifyOptions{Tenant: TenantA, Origin: Origin, Keys: tc.keys}, nil)
		switch {
		case err != nil:
			t.Fatalf("VerifyStore(%s) = %v, want a report", tc.name, err)
		case tc.reason == "" && (!rep.OK || rep.SignedSize != ack.Seq+4):
			t.Errorf("VerifyStore(%s) = %+v, want OK over %d entries", tc.name, rep, ack.Seq+4)
		case tc.reason != "" && (rep.OK || !strings.Contains(rep.Failure.Reason, tc.reason)):
			t.Errorf("VerifyStore(%s) = %v, want a failure with %q", tc.name, rep.Failure, tc.reason)
		}
	}

	// The installation's key history is kept in its settings.
	ms, ok := h.Store.(metaStore)
	if !ok {
		t.Fatalf("store %T keeps no installation settings", h.Store)
	}
	for _, v := range []string{oldV, oldV + "\n" + newV} {
		if err := ms.SetMeta(ctx, "verifier_keys", v); err != nil {
			t.Fatalf("SetMeta(verifier_keys) = %v, want nil", err)
		}
		if got, err := ms.Meta(ctx, "verifier_keys"); err != nil || got != v {
			t.Errorf("Meta(verifier_keys) = %q, %v; want %q", got, err, v)
		}
	}
}
