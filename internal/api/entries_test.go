package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/api"
	"github.com/wardenhq/warden/internal/ledger"
	"golang.org/x/mod/sumdb/note"
)

func mustVerifier(t *testing.T, vkey string) note.Verifier {
	t.Helper()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatalf("note.NewVerifier(%q) = %v", vkey, err)
	}
	return v
}

// strictDecode decodes b into v, rejecting fields v does not name, so a
// shape test notices an undocumented or renamed field.
func strictDecode(t *testing.T, b []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s into %T: %v", b, v, err)
	}
}

type entryPage struct {
	Entries    []api.EntryJSON `json:"entries"`
	NextCursor string          `json:"next_cursor"`
}

// walkEntries follows next_cursor from the first page of query and
// returns every seq seen, in order, and how many pages it took.
func walkEntries(t *testing.T, s *stack, query url.Values) (seqs []int64, pages int) {
	t.Helper()
	for cursor := ""; ; pages++ {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		r := s.get(t, "/v1/log/entries?"+q.Encode(), s.admin, http.StatusOK)
		var p entryPage
		strictDecode(t, r.body, &p)
		for _, e := range p.Entries {
			seqs = append(seqs, e.Seq)
		}
		if p.NextCursor == "" {
			return seqs, pages + 1
		}
		if pages > 10000 {
			t.Fatalf("entries walk of %v does not end", query)
		}
		cursor = p.NextCursor
	}
}

func TestEntriesPaging(t *testing.T) {
	s := newStack(t, stackOptions{})
	n := 250
	if testing.Short() {
		n = 60
	}
	s.appendN(t, "default", n)
	total := int64(n + 2) // tenant.created and key.created come first
	for _, tc := range []struct {
		name      string
		query     url.Values
		from, to  int64
		wantPages int
	}{
		{"default limit", url.Values{}, 0, total, int((total + api.DefaultEntryLimit - 1) / api.DefaultEntryLimit)},
		{"limit 7", url.Values{"limit": {"7"}}, 0, total, int((total + 6) / 7)},
		{"limit 1", url.Values{"limit": {"1"}}, 0, total, int(total)},
		{"limit max", url.Values{"limit": {fmt.Sprint(api.MaxEntryLimit)}}, 0, total, 1},
		{"window", url.Values{"from": {"5"}, "to": {"40"}, "limit": {"6"}}, 5, 40, 6},
		{"to past the end", url.Values{"from": {"3"}, "to": {"100000"}, "limit": {"50"}}, 3, total, int((total - 3 + 49) / 50)},
		{"window of one page exactly", url.Values{"from": {"10"}, "to": {"20"}, "limit": {"10"}}, 10, 20, 1},
		{"empty window", url.Values{"from": {"9"}, "to": {"9"}}, 9, 9, 1},
		{"from past the end", url.Values{"from": {"100000"}}, 0, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seqs, pages := walkEntries(t, s, tc.query)
			if want := tc.to - tc.from; int64(len(seqs)) != want {
				t.Fatalf("walk %v: %d entries, want %d", tc.query, len(seqs), want)
			}
			for i, seq := range seqs {
				if seq != tc.from+int64(i) {
					t.Fatalf("walk %v: entry %d has seq %d, want %d (each entry exactly once, in order)", tc.query, i, seq, tc.from+int64(i))
				}
			}
			if pages != tc.wantPages {
				t.Errorf("walk %v took %d pages, want %d", tc.query, pages, tc.wantPages)
			}
		})
	}
}

func TestBadParameters(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.appendN(t, "default", 3)
	s.waitCheckpoint(t, "default") // size 5
	// A cursor of a seq, but not spelled the way the server spells it.
	odd := "c2VxOjAx" // base64url("seq:01")
	for _, tc := range []struct {
		name, path string
		want       int
	}{
		{"bad cursor", "/v1/log/entries?cursor=garbage", http.StatusBadRequest},
		{"cursor of another spelling", "/v1/log/entries?cursor=" + odd, http.StatusBadRequest},
		{"limit zero", "/v1/log/entries?limit=0", http.StatusBadRequest},
		{"limit negative", "/v1/log/entries?limit=-1", http.StatusBadRequest},
		{"limit too large", fmt.Sprintf("/v1/log/entries?limit=%d", api.MaxEntryLimit+1), http.StatusBadRequest},
		{"limit not a number", "/v1/log/entries?limit=ten", http.StatusBadRequest},
		{"from negative", "/v1/log/entries?from=-1", http.StatusBadRequest},
		{"from not a number", "/v1/log/entries?from=x", http.StatusBadRequest},
		{"to not a number", "/v1/log/entries?to=1e3", http.StatusBadRequest},
		{"seq not a number", "/v1/log/entries/one", http.StatusBadRequest},
		{"seq negative", "/v1/log/entries/-1", http.StatusBadRequest},
		{"seq at the end", "/v1/log/entries/5", http.StatusNotFound},
		{"seq far beyond the end", "/v1/log/entries/9223372036854775807", http.StatusNotFound},
		{"inclusion without seq", "/v1/log/proof/inclusion", http.StatusBadRequest},
		{"inclusion seq = size", "/v1/log/proof/inclusion?seq=5", http.StatusBadRequest},
		{"inclusion seq > size", "/v1/log/proof/inclusion?seq=3&size=2", http.StatusBadRequest},
		{"inclusion size beyond the log", "/v1/log/proof/inclusion?seq=0&size=6", http.StatusBadRequest},
		{"inclusion size zero", "/v1/log/proof/inclusion?seq=0&size=0", http.StatusBadRequest},
		{"inclusion seq negative", "/v1/log/proof/inclusion?seq=-1", http.StatusBadRequest},
		{"consistency without from", "/v1/log/proof/consistency", http.StatusBadRequest},
		{"consistency from zero", "/v1/log/proof/consistency?from=0", http.StatusBadRequest},
		{"consistency from > to", "/v1/log/proof/consistency?from=4&to=3", http.StatusBadRequest},
		{"consistency to beyond the log", "/v1/log/proof/consistency?from=1&to=6", http.StatusBadRequest},
		{"consistency from not a number", "/v1/log/proof/consistency?from=a", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.get(t, tc.path, s.admin, tc.want)
			decodeProblem(t, "GET "+tc.path, r)
		})
	}
}

func TestEntriesBeyondTheEnd(t *testing.T) {
	s := newStack(t, stackOptions{})
	// The log of default holds 2 entries: a window past them is an empty
	// list (never null) without a cursor.
	r := s.get(t, "/v1/log/entries?from=2", s.admin, http.StatusOK)
	if got := strings.TrimSpace(string(r.body)); got != `{"entries":[]}` {
		t.Fatalf("GET /v1/log/entries?from=2 on a log of 2 = %s, want {\"entries\":[]}", got)
	}
}

func TestVerifyRoute(t *testing.T) {
	s := newStack(t, stackOptions{maxBody: 64})
	s.appendN(t, "default", 20)
	s.waitCheckpoint(t, "default")
	for _, tc := range []struct {
		name, body string
		want       int
	}{
		{"empty object", "{}", http.StatusOK},
		{"no body", "", http.StatusOK},
		{"object with spaces", " {}\n", http.StatusOK},
		{"object with a field", `{"tenant":"_system"}`, http.StatusBadRequest},
		{"array", "[]", http.StatusBadRequest},
		{"not json", "verify please", http.StatusBadRequest},
		{"over the limit", "{" + strings.Repeat(" ", 100) + "}", http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(t, http.MethodPost, "/v1/log/verify", s.admin, strings.NewReader(tc.body))
			if r.status != tc.want {
				t.Fatalf("POST /v1/log/verify %q = %d, want %d; body %s", tc.body, r.status, tc.want, r.body)
			}
			if tc.want != http.StatusOK {
				p := decodeProblem(t, "POST /v1/log/verify", r)
				if tc.want == http.StatusRequestEntityTooLarge && p.Type != "urn:warden:problem:too-large" {
					t.Errorf("problem type %q, want urn:warden:problem:too-large", p.Type)
				}
				return
			}
			var rep ledger.Report
			if err := json.Unmarshal(r.body, &rep); err != nil {
				t.Fatalf("verify report %s: %v", r.body, err)
			}
			if !rep.OK || rep.Tenant != "default" || rep.Entries != 22 || rep.SignedSize != 22 || rep.Failure != nil {
				t.Fatalf("verify report = %s, want ok for all 22 entries of default", r.body)
			}
		})
	}
	t.Run("owner names default", func(t *testing.T) {
		r := s.do(t, http.MethodPost, "/v1/log/verify?tenant=default", s.owner, strings.NewReader("{}"))
		var rep ledger.Report
		if r.status != http.StatusOK || json.Unmarshal(r.body, &rep) != nil || !rep.OK || rep.Tenant != "default" {
			t.Fatalf("POST /v1/log/verify?tenant=default as owner = %d %s, want 200 with ok for default", r.status, r.body)
		}
	})
}

func TestUnknownRoute(t *testing.T) {
	s := newStack(t, stackOptions{})
	for _, tc := range []struct {
		method, path string
	}{
		{"GET", "/"},
		{"GET", "/v1/nothing"},
		{"GET", "/v1/log/entries/"},
		{"GET", "/v1/log/entries/1/more"},
		{"POST", "/v2/log/verify"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := s.do(t, tc.method, tc.path, s.admin, nil)
			if r.status != http.StatusNotFound {
				t.Fatalf("%s %s = %d, want 404", tc.method, tc.path, r.status)
			}
			if p := decodeProblem(t, tc.path, r); p.Type != "urn:warden:problem:not-found" {
				t.Errorf("%s %s: problem type %q, want not-found", tc.method, tc.path, p.Type)
			}
		})
	}
}

// A cursor keeps the window of the first page: pages after it need only
// the cursor, and entries appended meanwhile past the window stay out.
func TestCursorKeepsWindow(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.appendN(t, "default", 6) // 8 entries with the bootstrap's two
	r := s.get(t, "/v1/log/entries?from=1&to=5&limit=2", s.admin, http.StatusOK)
	var p entryPage
	strictDecode(t, r.body, &p)
	if len(p.Entries) != 2 || p.NextCursor == "" {
		t.Fatalf("first page = %d entries, cursor %q; want 2 and a cursor", len(p.Entries), p.NextCursor)
	}
	s.appendN(t, "default", 3)
	var seqs []int64
	for cursor := p.NextCursor; cursor != ""; cursor = p.NextCursor {
		r = s.get(t, "/v1/log/entries?cursor="+url.QueryEscape(cursor), s.admin, http.StatusOK)
		p = entryPage{}
		strictDecode(t, r.body, &p)
		for _, e := range p.Entries {
			seqs = append(seqs, e.Seq)
		}
	}
	if fmt.Sprint(seqs) != "[3 4]" {
		t.Errorf("pages after the first = seqs %v, want [3 4]", seqs)
	}
}
