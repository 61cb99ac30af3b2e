package client_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/client"
	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/api"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/store/sqlite"
	"golang.org/x/mod/sumdb/note"
)

// server is a real Warden API over SQLite in a temp dir.
type server struct {
	url, vkey, owner, admin string
	db                      *sqlite.DB
	ledger                  *ledger.Ledger
}

func newServer(t *testing.T, entries int) *server {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "warden.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("sqlite.Open = %v", err)
	}
	t.Cleanup(func() { db.Close() })
	skey, vkey, err := ledger.GenerateKey("warden")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	l, err := ledger.New(db, ledger.Config{Origin: "warden", Signer: signer, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(context.Background()) })
	made, err := access.Bootstrap(ctx, l, db, rand.Reader, time.Now)
	if err != nil {
		t.Fatalf("Bootstrap = %v", err)
	}
	s := &server{vkey: vkey, db: db, ledger: l}
	for _, k := range made {
		if k.Role == access.RoleOwner {
			s.owner = k.Secret
		} else {
			s.admin = k.Secret
		}
	}
	for i := range entries {
		if _, err := l.Append(ctx, "default", ledger.Request{Kind: "test.note", Actor: "system", Body: map[string]int{"n": i}}); err != nil {
			t.Fatalf("Append = %v", err)
		}
	}
	// Sign checkpoints now rather than running the signer: the test then
	// knows exactly what is signed.
	for _, tenant := range []string{ledger.SystemTenant, "default"} {
		if _, err := l.Checkpointer().Sign(ctx, tenant); err != nil {
			t.Fatalf("Sign(%s) = %v", tenant, err)
		}
	}
	hs := httptest.NewServer(api.New(api.Config{Store: db, Ledger: l, Origin: "warden", VerifierKey: vkey, Logger: logger}).Handler())
	t.Cleanup(hs.Close)
	s.url = hs.URL
	return s
}

func mustClient(t *testing.T, url, key string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(url, key, opts...)
	if err != nil {
		t.Fatalf("client.New(%q) = %v", url, err)
	}
	return c
}

func TestNewRejectsBadURLs(t *testing.T) {
	for _, tc := range []struct {
		name, url string
		ok        bool
	}{
		{"http", "http://127.0.0.1:8470", true},
		{"https with path and slash", "https://warden.example/api/", true},
		{"no scheme", "127.0.0.1:8470", false},
		{"other scheme", "ftp://warden.example", false},
		{"no host", "http://", false},
		{"empty", "", false},
		{"garbage", "http://[::1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.New(tc.url, "k")
			if (err == nil) != tc.ok {
				t.Fatalf("client.New(%q) = %v, want ok=%v", tc.url, err, tc.ok)
			}
		})
	}
}

func TestClientReadsTheLog(t *testing.T) {
	s := newServer(t, 40) // the log of default has 42 entries
	ctx := context.Background()
	c := mustClient(t, s.url, s.admin)

	cp, err := c.Checkpoint(ctx)
	if err != nil || !strings.HasPrefix(string(cp), "warden/default\n42\n") {
		t.Fatalf("Checkpoint = %q, %v; want warden/default of size 42", cp, err)
	}
	if vkey, err := c.VerifierKey(ctx); err != nil || vkey != s.vkey {
		t.Fatalf("VerifierKey = %q, %v; want %q", vkey, err, s.vkey)
	}

	var seqs []int64
	cursor := ""
	for pages := 0; ; pages++ {
		page, err := c.Entries(ctx, 3, 30, cursor, 5)
		if err != nil {
			t.Fatalf("Entries(3, 30, %q, 5) = %v", cursor, err)
		}
		for _, e := range page.Entries {
			seqs = append(seqs, e.Seq)
		}
		if page.NextCursor == "" || pages > 100 {
			break
		}
		cursor = page.NextCursor
	}
	if len(seqs) != 27 || seqs[0] != 3 || seqs[26] != 29 {
		t.Fatalf("Entries walk of [3, 30) = %v, want 3..29", seqs)
	}
	if page, err := c.Entries(ctx, 40, -1, "", 0); err != nil || len(page.Entries) != 2 || page.NextCursor != "" {
		t.Fatalf("Entries(40, to the end) = %+v, %v; want entries 40 and 41", page, err)
	}

	e, err := c.GetEntry(ctx, 7)
	if err != nil || e.Seq != 7 {
		t.Fatalf("GetEntry(7) = %+v, %v", e, err)
	}
	_, canon, err := ledger.ParseObject(e.Entry)
	if err != nil || ledger.EncodeHash(ledger.LeafHash(canon)) != e.LeafHash {
		t.Fatalf("GetEntry(7): entry does not hash to leaf_hash %s (%v)", e.LeafHash, err)
	}

	ip, err := c.GetInclusionProof(ctx, 7, 0)
	if err != nil || ip.Seq != 7 || ip.Size != 42 || len(ip.Proof) == 0 {
		t.Fatalf("GetInclusionProof(7, latest) = %+v, %v; want size 42", ip, err)
	}
	if ip, err = c.GetInclusionProof(ctx, 7, 8); err != nil || ip.Size != 8 {
		t.Fatalf("GetInclusionProof(7, 8) = %+v, %v", ip, err)
	}
	cons, err := c.GetConsistencyProof(ctx, 10, 0)
	if err != nil || cons.From != 10 || cons.To != 42 || len(cons.Proof) == 0 {
		t.Fatalf("GetConsistencyProof(10, latest) = %+v, %v; want to 42", cons, err)
	}

	rep, err := c.VerifyLog(ctx)
	var r struct {
		OK      bool  `json:"ok"`
		Entries int64 `json:"entries"`
	}
	if err != nil || json.Unmarshal(rep, &r) != nil || !r.OK || r.Entries != 42 {
		t.Fatalf("VerifyLog = %s, %v; want ok for 42 entries", rep, err)
	}
}

func TestClientWithTenant(t *testing.T) {
	s := newServer(t, 0)
	ctx := context.Background()
	for _, tc := range []struct {
		name, key, tenant, origin string
		status                    int
	}{
		{"owner own", s.owner, "", "warden/_system", 0},
		{"owner names default", s.owner, "default", "warden/default", 0},
		{"owner names unknown", s.owner, "nope", "", http.StatusNotFound},
		{"admin names _system", s.admin, "_system", "", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []client.Option
			if tc.tenant != "" {
				opts = append(opts, client.WithTenant(tc.tenant))
			}
			cp, err := mustClient(t, s.url, tc.key, opts...).Checkpoint(ctx)
			if tc.status != 0 {
				var ce *client.Error
				if !errors.As(err, &ce) || ce.Status != tc.status {
					t.Fatalf("Checkpoint = %v, want a *client.Error with status %d", err, tc.status)
				}
				return
			}
			if err != nil || !strings.HasPrefix(string(cp), tc.origin+"\n") {
				t.Fatalf("Checkpoint = %q, %v; want the checkpoint of %s", cp, err, tc.origin)
			}
		})
	}
}

func TestClientErrors(t *testing.T) {
	s := newServer(t, 0)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		call   func(c *client.Client) error
		key    string
		status int
		typ    string
	}{
		{"no key", func(c *client.Client) error { _, err := c.Checkpoint(ctx); return err }, "", 401, "urn:warden:problem:unauthorized"},
		{"bad key", func(c *client.Client) error { _, err := c.Checkpoint(ctx); return err }, "wdn_x_y", 401, "urn:warden:problem:unauthorized"},
		{"entry beyond the end", func(c *client.Client) error { _, err := c.GetEntry(ctx, 99); return err }, s.admin, 404, "urn:warden:problem:not-found"},
		{"inclusion out of range", func(c *client.Client) error { _, err := c.GetInclusionProof(ctx, 5, 0); return err }, s.admin, 400, "urn:warden:problem:bad-request"},
		{"consistency from 0", func(c *client.Client) error { _, err := c.GetConsistencyProof(ctx, 0, 0); return err }, s.admin, 400, "urn:warden:problem:bad-request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(mustClient(t, s.url, tc.key))
			var ce *client.Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v (%T), want *client.Error", err, err)
			}
			if ce.Status != tc.status || ce.Type != tc.typ || ce.RequestID == "" {
				t.Fatalf("err = %+v, want status %d, type %s and a request id", ce, tc.status, tc.typ)
			}
			if msg := ce.Error(); !strings.Contains(msg, fmt.Sprint(tc.status)) || !strings.Contains(msg, ce.RequestID) {
				t.Errorf("Error() = %q, want the status and the request id", msg)
			}
		})
	}
}

// TestClientRequests checks what goes on the wire: the base path, the
// key, the tenant, and an answer that is not problem+json.
func TestClientRequests(t *testing.T) {
	type seen struct{ uri, authz string }
	got := make(chan seen, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.URL.RequestURI(), r.Header.Get("Authorization")}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "<html>proxy error</html>")
	}))
	defer hs.Close()
	ctx := context.Background()
	for _, tc := range []struct {
		name, base, key, tenant string
		call                    func(c *client.Client) error
		wantURL, wantAuthz      string
	}{
		{"checkpoint", hs.URL, "wdn_k", "", func(c *client.Client) error { _, err := c.Checkpoint(ctx); return err },
			"/v1/log/checkpoint", "Bearer wdn_k"},
		{"base path and tenant", hs.URL + "/warden/", "wdn_k", "acme", func(c *client.Client) error { _, err := c.GetEntry(ctx, 3); return err },
			"/warden/v1/log/entries/3?tenant=acme", "Bearer wdn_k"},
		{"no key", hs.URL, "", "", func(c *client.Client) error { _, err := c.Entries(ctx, 2, -1, "cur", 10); return err },
			"/v1/log/entries?cursor=cur&from=2&limit=10", ""},
		{"verify", hs.URL, "wdn_k", "", func(c *client.Client) error { _, err := c.VerifyLog(ctx); return err },
			"/v1/log/verify", "Bearer wdn_k"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []client.Option
			if tc.tenant != "" {
				opts = append(opts, client.WithTenant(tc.tenant))
			}
			err := tc.call(mustClient(t, tc.base, tc.key, opts...))
			var ce *client.Error
			if !errors.As(err, &ce) || ce.Status != http.StatusBadGateway || ce.Title != "Bad Gateway" {
				t.Fatalf("err = %v, want a *client.Error 502 Bad Gateway", err)
			}
			req := <-got
			if req.uri != tc.wantURL {
				t.Errorf("request URI = %q, want %q", req.uri, tc.wantURL)
			}
			if req.authz != tc.wantAuthz {
				t.Errorf("Authorization = %q, want %q", req.authz, tc.wantAuthz)
			}
		})
	}
}
