package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/client"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/store/postgres/pgtest"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// evalAnswer is the part of POST /v1/evaluate's answer the tests check.
type evalAnswer struct {
	Decision string `json:"decision"`
	Reasons  []struct {
		Code string `json:"code"`
		Rule string `json:"rule"`
	} `json:"reasons"`
	ReceiptID string `json:"receipt_id"`
	Seq       *int64 `json:"seq"`
	LeafHash  string `json:"leaf_hash"`
}

// evalCase is one request to POST /v1/evaluate under the built-in default
// policy and the answer it must get.
type evalCase struct {
	name     string
	body     string
	decision string
	code     string // of the first reason
	rule     string // of the first reason, if any
}

var builtinEvalCases = []evalCase{
	{"allowed", `{"principal":{"id":"coder","type":"agent"},"action":{"type":"fs.read","resource":"file:///workspace/a.go"},"args":{}}`,
		"allow", "rule", "read-workspace-files"},
	{"denied", `{"principal":{"id":"coder","type":"agent"},"action":{"type":"shell.exec"},"args":{"command":"rm -rf /"}}`,
		"deny", "rule", "no-recursive-delete"},
	{"unmatched", `{"principal":{"id":"coder","type":"agent"},"action":{"type":"email.send","resource":"mailto:a@example.com"},"args":{}}`,
		"deny", "default", ""},
}

// postEvaluate sends body to POST /v1/evaluate with key as bearer and
// returns the status, the Content-Type and the body read in full. A
// transport error (the connection refused or cut) is returned as is.
func postEvaluate(c *http.Client, url, key, body string) (int, string, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, url+"/v1/evaluate", strings.NewReader(body))
	if err != nil {
		return 0, "", nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", nil, err
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b, nil
}

// decodeAnswer decodes a 200 answer strictly enough to tell a complete
// one from a truncated one.
func decodeAnswer(b []byte) (evalAnswer, error) {
	var a evalAnswer
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&a); err != nil {
		return a, err
	}
	return a, nil
}

// checkAnswer checks one answer against its case.
func checkAnswer(tc evalCase, a evalAnswer) string {
	var problems []string
	if a.Decision != tc.decision {
		problems = append(problems, "decision "+a.Decision+", want "+tc.decision)
	}
	if len(a.Reasons) == 0 {
		problems = append(problems, "no reasons")
	} else {
		if a.Reasons[0].Code != tc.code {
			problems = append(problems, "first reason code "+a.Reasons[0].Code+", want "+tc.code)
		}
		if tc.rule != "" && a.Reasons[0].Rule != tc.rule {
			problems = append(problems, "first reason rule "+a.Reasons[0].Rule+", want "+tc.rule)
		}
	}
	if !strings.HasPrefix(a.ReceiptID, "rcpt_") {
		problems = append(problems, "receipt_id "+a.ReceiptID+" lacks the rcpt_ prefix")
	}
	if a.Seq == nil {
		problems = append(problems, "no seq")
	}
	if a.LeafHash == "" {
		problems = append(problems, "no leaf_hash")
	}
	return strings.Join(problems, "; ")
}

// TestE2EEvaluate decides requests through the real binary on SQLite and
// on PostgreSQL under the built-in default policy, checks each answer and
// its place in the log, verifies the log online, and checks that a
// malformed request is a 400 problem.
func TestE2EEvaluate(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		srv := startServer(t, dir)
		admin := srv.keys["admin/default"]
		if admin == "" {
			t.Fatalf("first start printed keys %v, want an admin of default\nstdout:\n%s", srv.keys, srv.stdout)
		}
		waitFor(t, srv.url+"/readyz", "")
		checkEvaluate(t, srv.url, admin, filepath.Join(dir, pubFile))
		if r := srv.stop(t); r.code != 0 {
			t.Fatalf("warden serve after SIGTERM = %s\nwant exit 0", r)
		}
	})

	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.NewDatabase(t)
		keyPath := filepath.Join(t.TempDir(), "signing.key")
		kg := warden(t, "keygen", "--out", keyPath)
		if kg.code != 0 {
			t.Fatalf("keygen = %s", kg)
		}
		pub := filepath.Join(t.TempDir(), pubFile)
		writeFile(t, pub, []byte(kg.stdout))
		if r := warden(t, "migrate", "--database", dsn); r.code != 0 {
			t.Fatalf("warden migrate = %s\nwant exit 0", r)
		}
		srv := startServer(t, t.TempDir(), "--database", dsn, "--signing-key", keyPath)
		admin := srv.keys["admin/default"]
		if admin == "" {
			t.Fatalf("first start printed keys %v, want an admin of default\nstdout:\n%s", srv.keys, srv.stdout)
		}
		waitFor(t, srv.url+"/readyz", "")
		checkEvaluate(t, srv.url, admin, pub)
		if r := srv.stop(t); r.code != 0 {
			t.Fatalf("warden serve after SIGTERM = %s\nwant exit 0", r)
		}
	})
}

// checkEvaluate runs the evaluate cases against a running server twice
// over and verifies its log with the trusted key in pub.
func checkEvaluate(t *testing.T, url, admin, pub string) {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second}
	last := int64(-1)
	seen := map[string]bool{}
	var allowed []string
	for round := range 2 {
		for _, tc := range builtinEvalCases {
			status, ct, b, err := postEvaluate(c, url, admin, tc.body)
			if err != nil {
				t.Fatalf("%s (round %d): POST /v1/evaluate: %v", tc.name, round, err)
			}
			if status != http.StatusOK || !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("%s (round %d): POST /v1/evaluate = %d %s %s, want 200 application/json", tc.name, round, status, ct, b)
			}
			a, err := decodeAnswer(b)
			if err != nil {
				t.Fatalf("%s (round %d): answer %s: %v", tc.name, round, b, err)
			}
			if p := checkAnswer(tc, a); p != "" {
				t.Errorf("%s (round %d): answer %s: %s", tc.name, round, b, p)
				continue
			}
			if *a.Seq <= last {
				t.Errorf("%s (round %d): seq %d after seq %d, want increasing", tc.name, round, *a.Seq, last)
			}
			last = *a.Seq
			if seen[a.ReceiptID] {
				t.Errorf("%s (round %d): receipt_id %s answered twice", tc.name, round, a.ReceiptID)
			}
			seen[a.ReceiptID] = true
			if a.Decision == "allow" {
				allowed = append(allowed, a.ReceiptID)
			}
		}
	}
	checkReceipts(t, url, admin, pub, allowed, len(seen))

	for _, tc := range []struct {
		name, body string
	}{
		{"not JSON", `{"principal":`},
		{"unknown field", `{"principal":{"id":"coder","type":"agent"},"action":{"type":"fs.read"},"args":{},"bogus":1}`},
		{"bad principal type", `{"principal":{"id":"coder","type":"robot"},"action":{"type":"fs.read"},"args":{}}`},
		{"no action", `{"principal":{"id":"coder","type":"agent"},"args":{}}`},
	} {
		status, ct, b, err := postEvaluate(c, url, admin, tc.body)
		if err != nil {
			t.Fatalf("malformed (%s): POST /v1/evaluate: %v", tc.name, err)
		}
		var p struct {
			Status int    `json:"status"`
			Title  string `json:"title"`
		}
		if status != http.StatusBadRequest || !strings.HasPrefix(ct, "application/problem+json") || json.Unmarshal(b, &p) != nil || p.Status != http.StatusBadRequest {
			t.Errorf("malformed (%s): POST /v1/evaluate = %d %s %s, want 400 application/problem+json with status 400", tc.name, status, ct, b)
		}
	}

	// The first checkpoint is signed asynchronously after the first start.
	waitFor(t, url+"/v1/log/checkpoint", admin)
	r := warden(t, "log", "verify", "--url", url, "--key", admin, "--trusted-key", pub)
	t.Logf("verify: %s", r.stdout)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "ok    default ") {
		t.Errorf("warden log verify --url = %s\nwant exit 0 and ok for default", r)
	}
}

// checkReceipts reports outcomes through the Go client, checks that a
// receipt takes one, lists receipts and verifies a receipt's inclusion
// proof against a checkpoint signed by the trusted key in pub.
func checkReceipts(t *testing.T, url, admin, pub string, allowed []string, decisions int) {
	t.Helper()
	ctx := context.Background()
	c, err := client.New(url, admin)
	if err != nil {
		t.Fatal(err)
	}
	ms := int64(12)
	rec, err := c.ReportOutcome(ctx, allowed[0], client.Outcome{Status: "succeeded", Output: map[string]any{"bytes": 120}, DurationMS: &ms})
	if err != nil || rec.ReceiptID != allowed[0] {
		t.Fatalf("ReportOutcome(%s) = %+v, %v", allowed[0], rec, err)
	}
	var ce *client.Error
	if _, err := c.ReportOutcome(ctx, allowed[0], client.Outcome{Status: "failed"}); !errors.As(err, &ce) || ce.Status != http.StatusConflict {
		t.Fatalf("second ReportOutcome = %v, want a 409", err)
	}
	page, err := c.Receipts(ctx, client.ReceiptQuery{Decision: "allow", Limit: 1000})
	if err != nil || len(page.Receipts) != len(allowed) {
		t.Fatalf("Receipts(decision=allow) = %+v, %v; want %d", page, err, len(allowed))
	}
	if all, err := c.Receipts(ctx, client.ReceiptQuery{Limit: 1000}); err != nil || len(all.Receipts) != decisions {
		t.Fatalf("Receipts() = %+v, %v; want %d", all, err, decisions)
	}
	if page.Receipts[0].ReceiptID != allowed[0] || page.Receipts[0].OutcomeStatus != "succeeded" {
		t.Fatalf("first allowed receipt = %+v, want %s with outcome succeeded", page.Receipts[0], allowed[0])
	}
	vkey, err := os.ReadFile(pub)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(strings.TrimSpace(string(vkey)))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := c.GetReceipt(ctx, allowed[0])
		if err != nil {
			t.Fatalf("GetReceipt(%s) = %v", allowed[0], err)
		}
		if r.Outcome == nil {
			t.Fatalf("GetReceipt(%s) has no outcome", allowed[0])
		}
		if r.Outcome.Proof != nil {
			for _, e := range []*client.RecordedEntry{r.Decision, r.Outcome} {
				cp, err := ledger.OpenCheckpoint([]byte(e.Proof.Checkpoint), v.Name()+"/default", v)
				if err != nil {
					t.Fatalf("receipt checkpoint: %v", err)
				}
				var proof tlog.RecordProof
				for _, h := range e.Proof.Inclusion {
					d, err := ledger.DecodeHash(h)
					if err != nil {
						t.Fatal(err)
					}
					proof = append(proof, d)
				}
				if err := tlog.CheckRecord(proof, cp.Size, cp.Root, e.Seq, tlog.RecordHash(e.Entry.Entry)); err != nil {
					t.Fatalf("receipt entry %d: CheckRecord = %v", e.Seq, err)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("receipt %s: no checkpoint covers its outcome after 10s", allowed[0])
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline for the asynchronous checkpoint
	}
}
