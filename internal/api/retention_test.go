package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/api"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/retention"
)

// TestPrunedLog prunes the default tenant's log with the retention job
// (a clock 500 days ahead) and reads it through the API: pruned entries
// are served as null with their leaf hashes, their inclusion proofs still
// verify, the server's verification reports the pruned range, and a legal
// hold, set as a setting, stops the next prune.
func TestPrunedLog(t *testing.T) {
	s := newStack(t, stackOptions{})
	ctx := context.Background()
	s.appendN(t, "default", 20)
	cpNote := s.waitCheckpoint(t, "default")
	cp, err := ledger.OpenCheckpoint(cpNote, ledger.TenantOrigin(testOrigin, "default"), mustVerifier(t, s.vkey))
	if err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(500 * 24 * time.Hour)
	job := &retention.Job{Log: s.db, Ledger: s.ledger, Clock: func() time.Time { return later },
		Logger: slog.New(slog.DiscardHandler),
		Policy: func(ctx context.Context, tenant string) (retention.Policy, error) {
			st, err := s.access.Settings(ctx, tenant)
			if errors.Is(err, access.ErrNotFound) {
				return retention.Policy{}, retention.ErrUnknownTenant
			}
			return retention.Policy{Days: st.RetentionDays, LegalHold: st.LegalHold}, err
		}}
	ps, err := job.RunOnce(ctx)
	if err != nil || len(ps) != 1 || ps[0].Tenant != "default" || ps[0].Body.From != 0 || ps[0].Body.To != cp.Size {
		t.Fatalf("RunOnce() = %+v, %v; want default pruned over [0, %d)", ps, err, cp.Size)
	}

	r := s.get(t, "/v1/log/entries?limit=1000", s.admin, http.StatusOK)
	var page entryPage
	strictDecode(t, r.body, &page)
	for _, e := range page.Entries {
		if pruned := e.Seq < cp.Size; e.Pruned != pruned || (string(e.Entry) == "null") != pruned {
			t.Errorf("entry %d served as pruned %v (%s), want pruned %v", e.Seq, e.Pruned, e.Entry, pruned)
		}
	}
	for _, seq := range []int64{0, 3, cp.Size - 1} {
		r := s.get(t, "/v1/log/proof/inclusion?seq="+itoa(seq)+"&size="+itoa(cp.Size), s.admin, http.StatusOK)
		var p api.InclusionJSON
		strictDecode(t, r.body, &p)
		proof := make(tlog.RecordProof, len(p.Proof))
		for i, h := range p.Proof {
			if proof[i], err = ledger.DecodeHash(h); err != nil {
				t.Fatal(err)
			}
		}
		leaf, err := ledger.DecodeHash(page.Entries[seq].LeafHash)
		if err != nil {
			t.Fatal(err)
		}
		if p.Size != cp.Size {
			t.Fatalf("inclusion proof of seq %d is at size %d, want the checkpoint's %d", seq, p.Size, cp.Size)
		}
		if err := tlog.CheckRecord(proof, cp.Size, cp.Root, seq, leaf); err != nil {
			t.Errorf("CheckRecord(pruned seq %d) = %v, want nil", seq, err)
		}
	}

	s.waitCheckpoint(t, "default")
	r = s.do(t, "POST", "/v1/log/verify", s.admin, nil)
	var rep ledger.Report
	if err := json.Unmarshal(r.body, &rep); r.status != http.StatusOK || err != nil || !rep.OK ||
		len(rep.Pruned) != 1 || rep.Pruned[0] != [2]int64{0, cp.Size} {
		t.Fatalf("POST /v1/log/verify = %d %s, want OK with pruned [[0, %d]]", r.status, r.body, cp.Size)
	}

	s.send(t, "PATCH", "/v1/settings", s.admin, `{"legal_hold":true}`, http.StatusOK)
	if st, err := s.access.Settings(ctx, "default"); err != nil || !st.LegalHold {
		t.Fatalf("Settings(default) = %+v, %v; want legal_hold set", st, err)
	}
	s.appendN(t, "default", 5)
	s.waitCheckpoint(t, "default")
	later = later.Add(1000 * 24 * time.Hour)
	if ps, err := job.RunOnce(ctx); err != nil || len(ps) != 0 {
		t.Errorf("RunOnce(legal hold) = %+v, %v; want nothing pruned", ps, err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
