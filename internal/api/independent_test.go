package api_test

import (
	"bytes"
	"encoding/json"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/ledger"
)

// independentSetup is a server whose default log holds some hundreds of
// entries, with a checkpoint kept from before the last appends.
type independentSetup struct {
	s       *stack
	earlier []byte // checkpoint note of a smaller tree
	size    int64  // entries in the log, all covered by the latest checkpoint
}

func newIndependentSetup(t *testing.T) *independentSetup {
	t.Helper()
	s := newStack(t, stackOptions{})
	first, second := 311, 177
	if testing.Short() {
		first, second = 131, 70
	}
	s.appendN(t, "default", first)
	earlier := s.waitCheckpoint(t, "default")
	s.appendN(t, "default", second)
	s.waitCheckpoint(t, "default")
	return &independentSetup{s: s, earlier: earlier, size: int64(2 + first + second)}
}

func TestIndependentVerification(t *testing.T) {
	x := newIndependentSetup(t)
	res, err := verifyIndependently(x.s.url, x.s.admin, x.s.vkey, x.earlier)
	if err != nil {
		t.Fatalf("verifyIndependently = %v, want nil", err)
	}
	earlierSize, _ := strconv.ParseInt(strings.Split(string(x.earlier), "\n")[1], 10, 64)
	switch {
	case res.Origin != "warden/default":
		t.Errorf("origin = %q, want warden/default", res.Origin)
	case int64(res.Size) != x.size || int64(res.Entries) != x.size:
		t.Errorf("verified %d entries under a checkpoint of %d, want %d", res.Entries, res.Size, x.size)
	case len(res.Included) < 5:
		t.Errorf("checked %d inclusion proofs, want at least 5", len(res.Included))
	case int64(res.ConsistentFrom) != earlierSize || earlierSize <= 2 || earlierSize >= x.size:
		t.Errorf("consistency proven from size %d; the earlier checkpoint has %d of %d", res.ConsistentFrom, earlierSize, x.size)
	}
	// The verifier's root is the server's own.
	root, err := ledger.TreeHash(t.Context(), x.s.db, "default", x.size)
	if err != nil || !bytes.Equal(root[:], res.Root) {
		t.Errorf("independent root %x, ledger.TreeHash = %x (%v)", res.Root, root, err)
	}
}

// TestIndependentVerifierNegative checks that the verifier fails for a
// key it should not trust and for a server that lies.
func TestIndependentVerifierNegative(t *testing.T) {
	x := newIndependentSetup(t)
	_, otherKey, err := ledger.GenerateKey("warden")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		url     string
		vkey    string
		earlier []byte
		want    string // in the error
	}{
		{"other verifier key", x.s.url, otherKey, x.earlier, "open checkpoint"},
		{"earlier checkpoint of another log", x.s.url, x.s.vkey, x.s.waitCheckpoint(t, ledger.SystemTenant), "earlier checkpoint"},
		{"altered entry", lyingServer(t, x.s, alterEntry), x.s.vkey, nil, "leaf_hash"},
		{"altered entry and leaf hash", lyingServer(t, x.s, alterEntryAndLeaf), x.s.vkey, nil, "seq 43"},
		{"dropped entry", lyingServer(t, x.s, dropEntry), x.s.vkey, nil, "is seq"},
		{"altered proof", lyingServer(t, x.s, alterProof), x.s.vkey, nil, "inclusion"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verifyIndependently(tc.url, x.s.admin, tc.vkey, tc.earlier)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("verifyIndependently = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// lyingServer serves s's API through edit, which may rewrite any JSON
// answer (path, decoded body) before it reaches the verifier.
func lyingServer(t *testing.T, s *stack, edit func(path string, v map[string]any)) string {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		s.srv.Handler().ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			var v map[string]any
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			if err := dec.Decode(&v); err != nil {
				t.Errorf("lying server: decode %s: %v", r.URL.Path, err)
			}
			edit(r.URL.Path, v)
			body, _ = json.Marshal(v)
		}
		w.Header().Set("Content-Type", rec.Header().Get("Content-Type"))
		w.WriteHeader(rec.Code)
		_, _ = io.Copy(w, bytes.NewReader(body))
	})
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return hs.URL
}

// entryAt returns the served entry with seq n in an entries page, if any.
func entryAt(path string, v map[string]any, n int64) map[string]any {
	if path != "/v1/log/entries" {
		return nil
	}
	for _, e := range v["entries"].([]any) {
		e := e.(map[string]any)
		if seq, _ := e["seq"].(json.Number).Int64(); seq == n {
			return e
		}
	}
	return nil
}

func alterEntry(path string, v map[string]any) {
	if e := entryAt(path, v, 42); e != nil {
		e["entry"].(map[string]any)["actor"] = "someone-else"
	}
}

// alterEntryAndLeaf rewrites entry 42 and serves the leaf hash of the new
// bytes: the chain (prev of 43) no longer matches.
func alterEntryAndLeaf(path string, v map[string]any) {
	e := entryAt(path, v, 42)
	if e == nil {
		return
	}
	obj := e["entry"].(map[string]any)
	obj["actor"] = "someone-else"
	raw, _ := json.Marshal(obj)
	_, canon, err := ledger.ParseObject(raw)
	if err != nil {
		panic(err)
	}
	e["leaf_hash"] = ledger.EncodeHash(ledger.LeafHash(canon))
}

func dropEntry(path string, v map[string]any) {
	if path != "/v1/log/entries" {
		return
	}
	es := v["entries"].([]any)
	for i, e := range es {
		if seq, _ := e.(map[string]any)["seq"].(json.Number).Int64(); seq == 100 {
			v["entries"] = append(es[:i:i], es[i+1:]...)
			return
		}
	}
}

func alterProof(path string, v map[string]any) {
	if path != "/v1/log/proof/inclusion" {
		return
	}
	p := v["proof"].([]any)
	h := []byte(p[0].(string))
	h[0] ^= 'A' ^ 'B' // another base64 character
	p[0] = string(h)
}

// TestIndependentVerifierImports keeps the verifier free of Warden code: it
// must be something an auditor could have written from the formats alone.
func TestIndependentVerifierImports(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "independent_verifier_test.go", nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	allowed := []string{
		"golang.org/x/mod/sumdb/note", "golang.org/x/mod/sumdb/tlog",
		"github.com/transparency-dev/formats/log", "github.com/transparency-dev/merkle",
		"github.com/gowebpki/jcs",
	}
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if !strings.Contains(path, ".") {
			continue // standard library
		}
		ok := false
		for _, a := range allowed {
			ok = ok || path == a || strings.HasPrefix(path, a+"/")
		}
		if !ok {
			t.Errorf("independent verifier imports %q; allowed: the standard library and %v", path, allowed)
		}
	}
}
