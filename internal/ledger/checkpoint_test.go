package ledger_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/internal/ledger"
)

const cpOrigin = "warden.test/acme"

func testRoot(s string) tlog.Hash { return tlog.Hash(sha256.Sum256([]byte(s))) }

func mustKeys(t testing.TB, name string, seed int64) (note.Signer, note.Verifier) {
	t.Helper()
	s, v, err := fixtureKeys(name, seed)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

func TestCheckpointRoundTrip(t *testing.T) {
	s, v := mustKeys(t, "warden.test", 1)
	_, old := mustKeys(t, "warden.test", 2)
	tests := []struct {
		name      string
		size      int64
		root      tlog.Hash
		verifiers []note.Verifier
	}{
		{"size 1", 1, testRoot("a"), []note.Verifier{v}},
		{"large size", 1 << 40, testRoot("b"), []note.Verifier{v}},
		{"zero root", 3, tlog.Hash{}, []note.Verifier{v}},
		{"key history, signer second", 10, testRoot("c"), []note.Verifier{old, v}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := ledger.SignCheckpoint(s, cpOrigin, tt.size, tt.root)
			if err != nil {
				t.Fatalf("SignCheckpoint = %v, want nil", err)
			}
			cp, err := ledger.OpenCheckpoint(msg, cpOrigin, tt.verifiers...)
			if err != nil {
				t.Fatalf("OpenCheckpoint = %v, want nil", err)
			}
			want := ledger.Checkpoint{Origin: cpOrigin, Size: tt.size, Root: tt.root}
			if *cp != want {
				t.Errorf("OpenCheckpoint = %+v, want %+v", *cp, want)
			}
			// The C2SP text: origin, size, base64 root, blank line, signature.
			text := fmt.Sprintf("%s\n%d\n%s\n\n— ", cpOrigin, tt.size, ledger.EncodeHash(tt.root))
			if !bytes.HasPrefix(msg, []byte(text)) {
				t.Errorf("SignCheckpoint = %q, want it to start with %q", msg, text)
			}
		})
	}
}

// TestCheckpointIndependentParse opens our checkpoints with the parser a
// third party uses, and with sumdb/note alone.
func TestCheckpointIndependentParse(t *testing.T) {
	s, v := mustKeys(t, "warden.test", 1)
	root := testRoot("independent")
	msg, err := ledger.SignCheckpoint(s, cpOrigin, 12345, root)
	if err != nil {
		t.Fatal(err)
	}
	cp, _, _, err := log.ParseCheckpoint(msg, cpOrigin, v)
	if err != nil {
		t.Fatalf("log.ParseCheckpoint = %v, want nil", err)
	}
	if cp.Origin != cpOrigin || cp.Size != 12345 || !bytes.Equal(cp.Hash, root[:]) {
		t.Errorf("log.ParseCheckpoint = %+v, want %s@12345 root %x", cp, cpOrigin, root)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		t.Fatalf("note.Open = %v, want nil", err)
	}
	if want := fmt.Sprintf("%s\n12345\n%s\n", cpOrigin, ledger.EncodeHash(root)); n.Text != want {
		t.Errorf("note text = %q, want %q", n.Text, want)
	}
}

func TestOpenCheckpointRejects(t *testing.T) {
	s, v := mustKeys(t, "warden.test", 1)
	otherSigner, otherKey := mustKeys(t, "warden.test", 2)
	_, renamed := mustKeys(t, "other.name", 1)
	root := testRoot("r")
	good, err := ledger.SignCheckpoint(s, cpOrigin, 42, root)
	if err != nil {
		t.Fatal(err)
	}
	byOther, err := ledger.SignCheckpoint(otherSigner, cpOrigin, 42, root)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(old, new string) []byte {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("%q not in checkpoint", old)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	flipSig := append([]byte{}, good...)
	flipSig[len(flipSig)-3] ^= 0x01 // inside the base64 signature
	tests := []struct {
		name      string
		msg       []byte
		origin    string
		verifiers []note.Verifier
	}{
		{"wrong key", good, cpOrigin, []note.Verifier{otherKey}},
		{"signed by another key", byOther, cpOrigin, []note.Verifier{v}},
		{"key under another name", good, cpOrigin, []note.Verifier{renamed}},
		{"no key", good, cpOrigin, nil},
		{"wrong origin", good, "warden.test/other", []note.Verifier{v}},
		{"origin of the installation", good, "warden.test", []note.Verifier{v}},
		{"tampered size", edit("\n42\n", "\n43\n"), cpOrigin, []note.Verifier{v}},
		{"tampered root", edit(ledger.EncodeHash(root), ledger.EncodeHash(testRoot("x"))), cpOrigin, []note.Verifier{v}},
		{"tampered origin", edit(cpOrigin+"\n", "warden.test/acmf\n"), cpOrigin, []note.Verifier{v}},
		{"tampered signature", flipSig, cpOrigin, []note.Verifier{v}},
		{"extension line added", edit("\n\n— ", "\nextra\n\n— "), cpOrigin, []note.Verifier{v}},
		{"unsigned", []byte(fmt.Sprintf("%s\n42\n%s\n", cpOrigin, ledger.EncodeHash(root))), cpOrigin, []note.Verifier{v}},
		{"truncated", good[:len(good)/2], cpOrigin, []note.Verifier{v}},
		{"empty", nil, cpOrigin, []note.Verifier{v}},
	}
	if _, err := ledger.OpenCheckpoint(good, cpOrigin, v); err != nil {
		t.Fatalf("OpenCheckpoint(good) = %v, want nil", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if cp, err := ledger.OpenCheckpoint(tt.msg, tt.origin, tt.verifiers...); err == nil {
				t.Errorf("OpenCheckpoint(%q) = %+v, nil; want an error", tt.msg, cp)
			}
		})
	}
}

func TestGenerateKey(t *testing.T) {
	skey, vkey, err := ledger.GenerateKey("warden.example")
	if err != nil {
		t.Fatalf("GenerateKey = %v, want nil", err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatalf("note.NewSigner(generated) = %v, want nil", err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatalf("note.NewVerifier(generated) = %v, want nil", err)
	}
	msg, err := ledger.SignCheckpoint(s, cpOrigin, 1, testRoot("k"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.OpenCheckpoint(msg, cpOrigin, v); err != nil {
		t.Errorf("OpenCheckpoint with the generated key = %v, want nil", err)
	}
	if strings.Contains(vkey, skey) || v.Name() != "warden.example" {
		t.Errorf("GenerateKey: verifier %q names %q, want warden.example and no private part", vkey, v.Name())
	}
}

func TestCheckpointerSign(t *testing.T) {
	ctx := context.Background()
	s := newFakeStore()
	l := newTestLedger(t, s, nil)
	_, v := mustKeys(t, fixtureOrigin, 1)
	if _, err := l.Checkpointer().Sign(ctx, tenant); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("Sign(empty log) = %v, want ErrNotFound", err)
	}
	for i := 0; i < 3; i++ {
		if _, err := l.Append(ctx, tenant, plain("decision")(i)); err != nil {
			t.Fatal(err)
		}
	}
	cp, err := l.Checkpointer().Sign(ctx, tenant)
	if err != nil || cp.Size != 3 {
		t.Fatalf("Sign = %+v, %v; want size 3", cp, err)
	}
	opened, err := ledger.OpenCheckpoint(cp.Note, l.Origin(tenant), v)
	if err != nil {
		t.Fatalf("OpenCheckpoint(signed) = %v, want nil", err)
	}
	if root, err := ledger.TreeHash(ctx, s, tenant, 3); err != nil || opened.Root != root {
		t.Errorf("signed root = %x, want the tree hash %x (%v)", opened.Root, root, err)
	}
	again, err := l.Checkpointer().Sign(ctx, tenant)
	if err != nil || !bytes.Equal(again.Note, cp.Note) {
		t.Errorf("Sign with nothing new = %+v, %v; want the latest checkpoint back", again, err)
	}
	if cps, _ := s.Checkpoints(ctx, tenant, 0, 100); len(cps) != 1 {
		t.Errorf("store holds %d checkpoints, want 1", len(cps))
	}
}

// TestCheckpointerRun checks the promise that a checkpoint covering an
// append is stored within a second of it, by polling the store.
func TestCheckpointerRun(t *testing.T) {
	s := newFakeStore()
	l := newTestLedger(t, s, func(c *ledger.Config) { c.CheckpointInterval = 20 * time.Millisecond })
	_, v := mustKeys(t, fixtureOrigin, 1)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.Checkpointer().Run(ctx)
	}()
	defer func() {
		cancel()
		wg.Wait() // Run returns once its context ends
	}()
	for round := 0; round < 5; round++ {
		var acks sync.WaitGroup
		var mu sync.Mutex
		var last int64
		var appended time.Time
		for i := 0; i <= round; i++ {
			acks.Add(1)
			go func() {
				defer acks.Done()
				ack, err := l.Append(ctx, tenant, plain("decision")(i))
				if err != nil {
					t.Errorf("Append = %v, want nil", err)
					return
				}
				mu.Lock()
				last, appended = max(last, ack.Seq), time.Now()
				mu.Unlock()
			}()
		}
		acks.Wait()
		cp := waitForCheckpoint(t, s, last+1, appended.Add(time.Second))
		opened, err := ledger.OpenCheckpoint(cp.Note, l.Origin(tenant), v)
		if err != nil {
			t.Fatalf("OpenCheckpoint(round %d) = %v, want nil", round, err)
		}
		if root, err := ledger.TreeHash(context.Background(), s, tenant, cp.Size); err != nil || root != opened.Root {
			t.Errorf("checkpoint at %d signs root %x, want the tree hash %x (%v)", cp.Size, opened.Root, root, err)
		}
	}
}

// waitForCheckpoint polls the store until a checkpoint of at least size
// is stored, and fails the test if none is by deadline.
func waitForCheckpoint(t *testing.T, s ledger.Store, size int64, deadline time.Time) *ledger.StoredCheckpoint {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		cp, err := s.LatestCheckpoint(context.Background(), tenant)
		if err == nil && cp.Size >= size {
			return cp
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of size %d within 1 s of the append (latest %+v, %v)", size, cp, err)
		}
		<-tick.C
	}
}

// FuzzOpenCheckpoint checks that no input panics OpenCheckpoint and that
// whatever it accepts, the C2SP parser accepts with the same size and root.
// Seeds are in testdata/fuzz/FuzzOpenCheckpoint.
func FuzzOpenCheckpoint(f *testing.F) {
	s, v, err := fixtureKeys("warden.test", 1)
	if err != nil {
		f.Fatal(err)
	}
	msg, err := ledger.SignCheckpoint(s, cpOrigin, 42, testRoot("seed"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(msg)
	f.Fuzz(func(t *testing.T, msg []byte) {
		cp, err := ledger.OpenCheckpoint(msg, cpOrigin, v)
		if err != nil {
			return
		}
		c, _, _, err := log.ParseCheckpoint(msg, cpOrigin, v)
		if err != nil || int64(c.Size) != cp.Size || !bytes.Equal(c.Hash, cp.Root[:]) || cp.Origin != cpOrigin {
			t.Fatalf("OpenCheckpoint(%q) = %+v, but log.ParseCheckpoint = %+v, %v", msg, cp, c, err)
		}
	})
}
