package main

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/store/postgres"
	"github.com/wardenhq/warden/internal/store/storetest"
	"golang.org/x/mod/sumdb/note"
)

// pgLoadTenants are the logs a pgLoad appends to, in sorted order.
var pgLoadTenants = []string{ledger.SystemTenant, storetest.TenantA, access.DefaultTenant}

// pgLoad is an in-process replica under load: writers append to every
// tenant of pgLoadTenants and its checkpoint signer runs, until stop.
type pgLoad struct {
	db     *postgres.DB
	l      *ledger.Ledger
	acked  atomic.Int64
	errc   chan error
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

func startPostgresLoad(t *testing.T, db *postgres.DB, signer note.Signer) *pgLoad {
	t.Helper()
	l, err := ledger.New(db, ledger.Config{Origin: storetest.Origin, Signer: signer, CheckpointInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	const writers = 2
	ctx, cancel := context.WithCancel(context.Background())
	ld := &pgLoad{db: db, l: l, errc: make(chan error, writers*len(pgLoadTenants)), cancel: cancel}
	ld.wg.Add(1)
	go func() { defer ld.wg.Done(); l.Checkpointer().Run(ctx) }()
	for i, tenant := range pgLoadTenants {
		for w := range writers {
			ld.wg.Add(1)
			go func() {
				defer ld.wg.Done()
				for n := 0; ctx.Err() == nil; n++ {
					if _, err := l.Append(ctx, tenant, storetest.Req((i*writers+w)<<20|n)); err != nil {
						if ctx.Err() == nil {
							ld.errc <- fmt.Errorf("Append(%s, n=%d) = %v", tenant, n, err)
						}
						return
					}
					ld.acked.Add(1)
				}
			}()
		}
	}
	t.Cleanup(func() { ld.stop(t) })
	return ld
}

// waitSigned polls until every tenant has a checkpoint of at least size
// entries, and returns every checkpoint stored by then.
func (ld *pgLoad) waitSigned(t *testing.T, size int64) map[string][]ledger.StoredCheckpoint {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	for _, tenant := range pgLoadTenants {
		for {
			select {
			case err := <-ld.errc:
				t.Fatal(err)
			default:
			}
			cp, err := ld.db.LatestCheckpoint(ctx, tenant)
			if err == nil && cp.Size >= size {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no checkpoint of %s covering %d entries within 60s (latest %+v, %v)", tenant, size, cp, err)
			}
			time.Sleep(10 * time.Millisecond) // polling with a deadline
		}
	}
	signed := map[string][]ledger.StoredCheckpoint{}
	for _, tenant := range pgLoadTenants {
		cps, err := ld.db.Checkpoints(ctx, tenant, 0, math.MaxInt64)
		if err != nil {
			t.Fatal(err)
		}
		signed[tenant] = cps
	}
	return signed
}

// stop ends the load, drains the ledger (signing final checkpoints) and
// fails t if a writer failed.
func (ld *pgLoad) stop(t *testing.T) {
	ld.once.Do(func() {
		ld.cancel()
		ld.wg.Wait()
		if err := ld.l.Close(context.Background()); err != nil {
			t.Errorf("Ledger.Close() = %v", err)
		}
		close(ld.errc)
		for err := range ld.errc {
			t.Error(err)
		}
	})
}
