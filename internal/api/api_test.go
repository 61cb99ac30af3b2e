package api_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/api"
	"github.com/wardenhq/warden/internal/ledger"
)

// logRoutes are every authenticated route, as a request that succeeds for
// a reader of a log with at least two entries and a checkpoint.
var logRoutes = []struct {
	method, path, body string
}{
	{"GET", "/v1/log/checkpoint", ""},
	{"GET", "/v1/log/key", ""},
	{"GET", "/v1/log/entries", ""},
	{"GET", "/v1/log/entries/0", ""},
	{"GET", "/v1/log/proof/inclusion?seq=0", ""},
	{"GET", "/v1/log/proof/consistency?from=1", ""},
	{"POST", "/v1/log/verify", "{}"},
}

func decodeProblem(t *testing.T, what string, r *response) api.Problem {
	t.Helper()
	if ct := r.contentType(); ct != "application/problem+json" {
		t.Fatalf("%s: Content-Type = %q, want application/problem+json", what, ct)
	}
	var p api.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("%s: problem body %q: %v", what, r.body, err)
	}
	if p.Status != r.status || !strings.HasPrefix(p.Type, "urn:warden:problem:") || p.Title == "" {
		t.Fatalf("%s: problem %+v does not match status %d or lacks type/title", what, p, r.status)
	}
	if p.RequestID == "" || p.RequestID != r.header.Get("X-Request-Id") {
		t.Fatalf("%s: problem request_id %q, header X-Request-Id %q: want equal and set", what, p.RequestID, r.header.Get("X-Request-Id"))
	}
	return p
}

func TestHealth(t *testing.T) {
	s := newStack(t, stackOptions{})
	for _, tc := range []struct {
		name, path, status string
	}{
		{"healthz", "/healthz", "ok"},
		{"readyz", "/readyz", "ready"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.get(t, tc.path, "", http.StatusOK)
			var body map[string]string
			if err := json.Unmarshal(r.body, &body); err != nil || body["status"] != tc.status {
				t.Fatalf("GET %s body = %s (%v), want status %q", tc.path, r.body, err, tc.status)
			}
		})
	}
}

// TestReadyzStoreFull fills a size-capped database until appends fail:
// a server that cannot record must then report itself not ready.
func TestReadyzStoreFull(t *testing.T) {
	s := newStack(t, stackOptions{maxPageCount: 64})
	s.get(t, "/readyz", "", http.StatusOK)
	// Fill with large batches, then single entries of shrinking size, until
	// not even a small entry fits.
	for _, fill := range []struct{ n, pad int }{{8, 2000}, {1, 2000}, {1, 500}, {1, 50}} {
		var err error
		for i := 0; i < 1000 && err == nil; i++ {
			err = s.tryAppendN("default", fill.n, fill.pad)
		}
		if !errors.Is(err, ledger.ErrStore) {
			t.Fatalf("appending %d entries of %d bytes to a database of 64 pages: %v, want ErrStore eventually", fill.n, fill.pad, err)
		}
	}
	r := s.get(t, "/readyz", "", http.StatusServiceUnavailable)
	var body map[string]string
	if err := json.Unmarshal(r.body, &body); err != nil || body["status"] != "unavailable" || body["last_append"] != "failed" {
		t.Fatalf("GET /readyz body = %s (%v), want status unavailable, last_append failed", r.body, err)
	}
	// A decision that cannot be recorded is not answered: 503, never an
	// unlogged allow, and the log holds nothing new.
	before := s.get(t, "/v1/log/entries?limit=1000", s.admin, http.StatusOK)
	r = s.do(t, "POST", "/v1/evaluate", s.admin, strings.NewReader(evalBody("billing-bot", "fs.read", "{}")), "Content-Type", "application/json")
	if r.status != http.StatusServiceUnavailable {
		t.Fatalf("POST /v1/evaluate on a full store = %d %s, want 503", r.status, r.body)
	}
	decodeProblem(t, "POST /v1/evaluate on a full store", r)
	if after := s.get(t, "/v1/log/entries?limit=1000", s.admin, http.StatusOK); !bytes.Equal(after.body, before.body) {
		t.Errorf("the log changed after an unrecorded decision:\nbefore %s\nafter %s", before.body, after.body)
	}
	// Reads still work on a full store.
	s.get(t, "/v1/log/entries?limit=1", s.admin, http.StatusOK)
	s.get(t, "/healthz", "", http.StatusOK)
}

func TestLogRoutesAuthentication(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.waitCheckpoint(t, "default")
	id, _, _ := strings.Cut(strings.TrimPrefix(s.admin, "wdn_"), "_")
	otherSecret := keySecret(t, s.owner) // well-formed, but not the admin's
	for _, tc := range []struct {
		name, authz string
	}{
		{"no key", ""},
		{"not bearer", "Basic " + base64.StdEncoding.EncodeToString([]byte("a:b"))},
		{"empty bearer", "Bearer "},
		{"malformed key", "Bearer wdn_nope"},
		{"unknown id", "Bearer wdn_" + strings.Repeat("a", 16) + "_" + otherSecret},
		{"wrong secret", "Bearer wdn_" + id + "_" + otherSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, rt := range logRoutes {
				r := s.do(t, rt.method, rt.path, "", strings.NewReader(rt.body), "Authorization", tc.authz)
				what := rt.method + " " + rt.path
				if r.status != http.StatusUnauthorized {
					t.Fatalf("%s = %d, want 401; body %s", what, r.status, r.body)
				}
				if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("%s: WWW-Authenticate = %q, want Bearer ...", what, got)
				}
				if p := decodeProblem(t, what, r); p.Type != "urn:warden:problem:unauthorized" {
					t.Errorf("%s: problem type %q, want urn:warden:problem:unauthorized", what, p.Type)
				}
			}
		})
	}
}

func TestLogRoutesRoles(t *testing.T) {
	s := newStack(t, stackOptions{})
	keys := map[access.Role]string{access.RoleAdmin: s.admin}
	for _, role := range []access.Role{access.RoleAuditor, access.RoleAgent, access.RoleOperator, access.RolePolicyAuthor, access.RoleApprover} {
		keys[role] = s.addKey(t, "default", role)
	}
	s.waitCheckpoint(t, "default")
	for _, tc := range []struct {
		role access.Role
		want int
	}{
		{access.RoleAdmin, http.StatusOK},
		{access.RoleAuditor, http.StatusOK},
		{access.RoleAgent, http.StatusForbidden},
		{access.RoleOperator, http.StatusForbidden},
		{access.RolePolicyAuthor, http.StatusForbidden},
		{access.RoleApprover, http.StatusForbidden},
	} {
		t.Run(string(tc.role), func(t *testing.T) {
			for _, rt := range logRoutes {
				r := s.do(t, rt.method, rt.path, keys[tc.role], strings.NewReader(rt.body))
				if r.status != tc.want {
					t.Fatalf("%s %s as %s = %d, want %d; body %s", rt.method, rt.path, tc.role, r.status, tc.want, r.body)
				}
				if tc.want == http.StatusForbidden {
					if p := decodeProblem(t, rt.path, r); p.Type != "urn:warden:problem:forbidden" {
						t.Errorf("%s: problem type %q, want forbidden", rt.path, p.Type)
					}
				}
			}
		})
	}
}

// TestLogShapes checks the documented JSON and text shapes of each route.
func TestLogShapes(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.appendN(t, "default", 5)
	s.waitCheckpoint(t, "default")

	t.Run("checkpoint", func(t *testing.T) {
		r := s.get(t, "/v1/log/checkpoint", s.admin, http.StatusOK)
		if !strings.HasPrefix(r.contentType(), "text/plain") {
			t.Errorf("Content-Type = %q, want text/plain", r.contentType())
		}
		lines := strings.Split(string(r.body), "\n")
		if len(lines) < 5 || lines[0] != testOrigin+"/default" || lines[1] != "7" {
			t.Fatalf("checkpoint = %q, want origin warden/default and size 7", r.body)
		}
		if _, err := ledger.OpenCheckpoint(r.body, testOrigin+"/default", mustVerifier(t, s.vkey)); err != nil {
			t.Fatalf("OpenCheckpoint(served checkpoint) = %v, want nil", err)
		}
	})
	t.Run("key", func(t *testing.T) {
		r := s.get(t, "/v1/log/key", s.admin, http.StatusOK)
		if !strings.HasPrefix(r.contentType(), "text/plain") || strings.TrimSpace(string(r.body)) != s.vkey {
			t.Fatalf("GET /v1/log/key = %q (%s), want the verifier key as text/plain", r.body, r.contentType())
		}
	})
	t.Run("entries", func(t *testing.T) {
		r := s.get(t, "/v1/log/entries?limit=3", s.admin, http.StatusOK)
		var page struct {
			Entries []struct {
				Seq      *int64          `json:"seq"`
				LeafHash string          `json:"leaf_hash"`
				Entry    json.RawMessage `json:"entry"`
			} `json:"entries"`
			NextCursor string `json:"next_cursor"`
		}
		strictDecode(t, r.body, &page)
		if len(page.Entries) != 3 || page.NextCursor == "" {
			t.Fatalf("GET /v1/log/entries?limit=3 = %d entries, cursor %q; want 3 and a cursor", len(page.Entries), page.NextCursor)
		}
		for i, e := range page.Entries {
			if e.Seq == nil || *e.Seq != int64(i) {
				t.Fatalf("entries[%d].seq = %v, want %d", i, e.Seq, i)
			}
			_, canon, err := ledger.ParseObject(e.Entry)
			if err != nil {
				t.Fatalf("entries[%d].entry: ParseObject = %v", i, err)
			}
			if got := ledger.EncodeHash(ledger.LeafHash(canon)); got != e.LeafHash {
				t.Fatalf("entries[%d].leaf_hash = %s, want %s", i, e.LeafHash, got)
			}
		}
	})
	t.Run("entry", func(t *testing.T) {
		r := s.get(t, "/v1/log/entries/2", s.admin, http.StatusOK)
		var e api.EntryJSON
		strictDecode(t, r.body, &e)
		if e.Seq != 2 || e.LeafHash == "" || len(e.Entry) == 0 {
			t.Fatalf("GET /v1/log/entries/2 = %s, want seq 2 with leaf_hash and entry", r.body)
		}
	})
	t.Run("inclusion", func(t *testing.T) {
		r := s.get(t, "/v1/log/proof/inclusion?seq=3&size=6", s.admin, http.StatusOK)
		var p struct {
			Seq, Size int64
			Proof     []string
		}
		strictDecode(t, r.body, &p)
		if p.Seq != 3 || p.Size != 6 || len(p.Proof) == 0 {
			t.Fatalf("inclusion proof = %s, want seq 3, size 6 and a proof", r.body)
		}
		r = s.get(t, "/v1/log/proof/inclusion?seq=3", s.admin, http.StatusOK)
		strictDecode(t, r.body, &p)
		if p.Size != 7 {
			t.Fatalf("inclusion proof without size: size %d, want the checkpoint's 7", p.Size)
		}
	})
	t.Run("consistency", func(t *testing.T) {
		r := s.get(t, "/v1/log/proof/consistency?from=3&to=6", s.admin, http.StatusOK)
		var p struct {
			From, To int64
			Proof    []string
		}
		strictDecode(t, r.body, &p)
		if p.From != 3 || p.To != 6 || len(p.Proof) == 0 {
			t.Fatalf("consistency proof = %s, want from 3, to 6 and a proof", r.body)
		}
		r = s.get(t, "/v1/log/proof/consistency?from=3", s.admin, http.StatusOK)
		strictDecode(t, r.body, &p)
		if p.To != 7 {
			t.Fatalf("consistency proof without to: to %d, want the checkpoint's 7", p.To)
		}
	})
}

func TestTenantIsolation(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.appendN(t, "default", 3)
	s.waitCheckpoint(t, "default")
	s.waitCheckpoint(t, ledger.SystemTenant)
	for _, tc := range []struct {
		name, key, query string
		want             int
		origin           string // first line of the checkpoint when 200
	}{
		{"owner own log", s.owner, "", http.StatusOK, "warden/_system"},
		{"owner names default", s.owner, "?tenant=default", http.StatusOK, "warden/default"},
		{"owner names _system", s.owner, "?tenant=_system", http.StatusOK, "warden/_system"},
		{"owner names unknown tenant", s.owner, "?tenant=nope", http.StatusNotFound, ""},
		{"owner names invalid tenant", s.owner, "?tenant=Not+A+Tenant", http.StatusBadRequest, ""},
		{"admin own log", s.admin, "", http.StatusOK, "warden/default"},
		{"admin names own tenant", s.admin, "?tenant=default", http.StatusOK, "warden/default"},
		{"admin names _system", s.admin, "?tenant=_system", http.StatusNotFound, ""},
		{"admin names unknown tenant", s.admin, "?tenant=nope", http.StatusNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.get(t, "/v1/log/checkpoint"+tc.query, tc.key, tc.want)
			if tc.want != http.StatusOK {
				decodeProblem(t, "checkpoint", r)
				// Every route refuses alike, not only the checkpoint.
				s.get(t, "/v1/log/entries"+tc.query, tc.key, tc.want)
				s.get(t, "/v1/log/entries/0"+tc.query, tc.key, tc.want)
				return
			}
			if first, _, _ := strings.Cut(string(r.body), "\n"); first != tc.origin {
				t.Fatalf("checkpoint origin = %q, want %q", first, tc.origin)
			}
			// The entries come from the same tenant's log.
			r = s.get(t, "/v1/log/entries/0"+tc.query, tc.key, http.StatusOK)
			var e api.EntryJSON
			strictDecode(t, r.body, &e)
			var env struct{ Tenant string }
			if err := json.Unmarshal(e.Entry, &env); err != nil || "warden/"+env.Tenant != tc.origin {
				t.Fatalf("entry 0 tenant = %q (%v), want the log of %s", env.Tenant, err, tc.origin)
			}
		})
	}
}
