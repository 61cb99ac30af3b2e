package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	msqlite "modernc.org/sqlite"

	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/store/storetest"
)

// ackLog collects acknowledgements and failures of concurrent appends.
type ackLog struct {
	mu    sync.Mutex
	acked map[int64]string // seq → id
	fails []error
}

func (a *ackLog) add(ack *ledger.Appended, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		a.fails = append(a.fails, err)
		return
	}
	if a.acked == nil {
		a.acked = map[int64]string{}
	}
	a.acked[ack.Seq] = ack.ID
}

// storedExactly checks that the store holds exactly the acknowledged
// entries, contiguously, and that the log verifies.
func (a *ackLog) storedExactly(t *testing.T, db *DB) {
	t.Helper()
	recs := storetest.AllRecords(t, db, tenant)
	if len(recs) != len(a.acked) {
		t.Errorf("stored %d entries, acknowledged %d", len(recs), len(a.acked))
	}
	for i, r := range recs {
		if r.Seq != int64(i) {
			t.Fatalf("record %d has seq %d, want contiguous seq", i, r.Seq)
		}
		if id, ok := a.acked[r.Seq]; !ok || id != r.ID {
			t.Errorf("stored seq %d id %s, acknowledged id %q", r.Seq, r.ID, id)
		}
	}
}

func isFull(err error) bool {
	var se *msqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == 13 // SQLITE_FULL
}

// schemaPages returns how many pages a new database takes.
func schemaPages(t *testing.T) int64 {
	t.Helper()
	db := mustOpen(t, filepath.Join(t.TempDir(), "schema.db"), Options{})
	defer db.Close()
	var n int64
	if err := db.r.QueryRowContext(context.Background(), "PRAGMA page_count").Scan(&n); err != nil {
		t.Fatalf("PRAGMA page_count = %v, want nil", err)
	}
	return n
}

// TestDiskFull fills a capped database with concurrent appends: every
// failure is a store failure, nothing unacknowledged is stored, nothing
// acknowledged is lost, health reports it, and appends resume once there
// is room again.
func TestDiskFull(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "warden.db")
	signer, verifier := storetest.NewKey(t)
	// A few pages beyond the schema's, which grows with every migration.
	db := mustOpen(t, path, Options{MaxPageCount: schemaPages(t) + 7})
	l := newLedger(t, db, signer)
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping() before filling = %v, want nil", err)
	}
	const writers, failuresEach, maxTries = 4, 3, 5000
	pad := strings.Repeat("x", 600)
	var log ackLog
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			failed := 0
			for i := 0; failed < failuresEach && i < maxTries; i++ {
				ack, err := l.Append(ctx, tenant, ledger.Request{Kind: "test.entry", Actor: "system",
					Body: map[string]any{"w": w, "i": i, "pad": pad}})
				log.add(ack, err)
				if err != nil {
					failed++
				}
			}
		})
	}
	wg.Wait()
	if len(log.fails) < writers*failuresEach || len(log.acked) == 0 {
		t.Fatalf("%d acknowledged, %d failed; want both, the cap never filled", len(log.acked), len(log.fails))
	}
	for _, err := range log.fails {
		if !errors.Is(err, ledger.ErrStore) || !isFull(err) {
			t.Fatalf("Append() on a full database = %v, want ErrStore wrapping SQLITE_FULL", err)
		}
	}
	t.Logf("%d acknowledged, %d failed", len(log.acked), len(log.fails))
	if err := db.Ping(ctx); err == nil {
		t.Errorf("Ping() on a full database = nil, want an error")
	}
	if err := l.Healthy(); !errors.Is(err, ledger.ErrStore) {
		t.Errorf("Healthy() on a full database = %v, want ErrStore", err)
	}
	if head, err := db.Head(ctx, tenant); err != nil || head.Size != int64(len(log.acked)) {
		t.Errorf("Head() on a full database = %d, %v; want %d (reads go on)", head.Size, err, len(log.acked))
	}

	// Room again (the cap is per connection, and the writer has one): the
	// same store and ledger recover without a restart.
	if _, err := db.w.ExecContext(ctx, "PRAGMA max_page_count = 1000000"); err != nil {
		t.Fatalf("raise max_page_count: %v", err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Errorf("Ping() with room again = %v, want nil", err)
	}
	log.add(l.Append(ctx, tenant, storetest.Req(0)))
	if err := l.Healthy(); err != nil {
		t.Errorf("Healthy() after a successful append = %v, want nil", err)
	}
	if err := l.Close(ctx); err != nil {
		t.Fatalf("Ledger.Close() = %v, want nil", err)
	}
	db.Close()

	db = mustOpen(t, path, Options{})
	log.storedExactly(t, db)
	storetest.Verify(t, db, signer, verifier, tenant)
}

// chattr sets or clears the immutable attribute, which stops even root
// from writing to files that are already open.
func chattr(flag string, paths ...string) error {
	out, err := exec.Command("chattr", append([]string{flag}, paths...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("chattr %s: %v: %s", flag, err, out)
	}
	return nil
}

// TestUnwritableFile makes the files of an open store unwritable: appends
// fail as store failures, Ping and Healthy report it, nothing that failed
// is stored, and writes resume when the files are writable again.
func TestUnwritableFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "warden.db")
	files := []string{path, path + "-wal"}
	signer, verifier := storetest.NewKey(t)
	db := mustOpen(t, path, Options{})
	l := newLedger(t, db, signer)
	var log ackLog
	for i := range 3 {
		log.add(l.Append(ctx, tenant, storetest.Req(i)))
	}
	if err := chattr("+i", files...); err != nil {
		t.Skipf("cannot make files immutable here: %v", err)
	}
	t.Cleanup(func() { chattr("-i", files...) })

	for i := range 3 {
		ack, err := l.Append(ctx, tenant, storetest.Req(i))
		if !errors.Is(err, ledger.ErrStore) {
			t.Fatalf("Append() to an unwritable file = %v, %v; want ErrStore", ack, err)
		}
	}
	if err := db.Ping(ctx); err == nil {
		t.Errorf("Ping() on an unwritable file = nil, want an error")
	}
	if err := l.Healthy(); !errors.Is(err, ledger.ErrStore) {
		t.Errorf("Healthy() on an unwritable file = %v, want ErrStore", err)
	}

	if err := chattr("-i", files...); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Errorf("Ping() once writable = %v, want nil", err)
	}
	for i := range 3 {
		log.add(l.Append(ctx, tenant, storetest.Req(i)))
	}
	if len(log.fails) != 0 {
		t.Fatalf("Append() once writable = %v, want nil", log.fails[0])
	}
	if err := l.Healthy(); err != nil {
		t.Errorf("Healthy() once writable = %v, want nil", err)
	}
	if err := l.Close(ctx); err != nil {
		t.Fatalf("Ledger.Close() = %v, want nil", err)
	}
	db.Close()
	db = mustOpen(t, path, Options{})
	log.storedExactly(t, db)
	storetest.Verify(t, db, signer, verifier, tenant)
}
