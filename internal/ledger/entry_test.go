package ledger_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gowebpki/jcs"

	"github.com/wardenhq/warden/internal/ledger"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// goldenPrev is a fixed stand-in for the previous entry's leaf hash.
var goldenPrev = ledger.EncodeHash(ledger.LeafHash([]byte("the entry before")))

// goldenEntries are pinned byte for byte in testdata/golden: NAME.json
// holds the canonical bytes, NAME.hash the base64 leaf hash.
var goldenEntries = []struct {
	name  string
	entry ledger.Entry
}{
	{name: "genesis", entry: ledger.Entry{V: 1, Tenant: "acme", Seq: 0, ID: "evt_01jd8x3v2c7m4n5p6q7r8s9t0v",
		Time: "2025-01-02T03:04:05.000006Z", Kind: "tenant.created", Actor: "system", Prev: "",
		Body: json.RawMessage(`{"name":"Acme Ltd","retention_days":400}`)}},
	{name: "decision", entry: ledger.Entry{V: 1, Tenant: "acme", Seq: 41, ID: "rcpt_01jd8x3v2c7m4n5p6q7r8s9t0w",
		Time: "2025-01-02T03:04:05.120000Z", Kind: "decision", Actor: "key_01jd8x3v2c7m4n5p6q7r8s9t0x", Prev: goldenPrev,
		// A spelling that is not canonical: key order, spaces, escapes and
		// number forms all change under RFC 8785.
		Body: json.RawMessage(`{ "tool": "sql.query", "effect": "deny",
			"args": {"q": "SELECT * FROM \u0074 WHERE city = 'Zürich → 東京 ✓ 🚀' AND x < 3 & y > 4\n\t\"\\\/"},
			"scores": [1.0, 0.1, -0, 1e21, 1E-7, 123456789012, 2.5e+3, -1.5],
			"nested": {"b": null, "a": [true, false, {}], "é": "\u00e9", "\u20ac": 1}}`)}},
	{name: "system", entry: ledger.Entry{V: 1, Tenant: ledger.SystemTenant, Seq: 7, ID: "key_01jd8x3v2c7m4n5p6q7r8s9t0y",
		Time: "1999-12-31T23:59:59.999999Z", Kind: "key.created", Actor: "monitor", Prev: goldenPrev,
		Body: json.RawMessage(`{}`)}},
	{name: "max-safe-seq", entry: ledger.Entry{V: 1, Tenant: "t0-x", Seq: 1<<53 - 1, ID: "evt_x",
		Time: "2099-06-30T00:00:00.000000Z", Kind: "monitor.heartbeat", Actor: "monitor", Prev: goldenPrev,
		Body: json.RawMessage(`{"n":9007199254740991,"s":"\u0000\u001f\u007f\u2028"}`)}},
}

func TestGolden(t *testing.T) {
	for _, tt := range goldenEntries {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ledger.Encode(&tt.entry)
			if err != nil {
				t.Fatalf("Encode(%s) = %v, want nil", tt.name, err)
			}
			// RFC 6962 leaf hash, computed here without tlog.
			sum := sha256.Sum256(append([]byte{0}, b...))
			hash := base64.StdEncoding.EncodeToString(sum[:])
			if got := ledger.EncodeHash(ledger.LeafHash(b)); got != hash {
				t.Fatalf("LeafHash = %s, want SHA-256(0x00 || bytes) = %s", got, hash)
			}
			bytesFile := filepath.Join("testdata", "golden", tt.name+".json")
			hashFile := filepath.Join("testdata", "golden", tt.name+".hash")
			if *update {
				writeFile(t, bytesFile, b)
				writeFile(t, hashFile, []byte(hash+"\n"))
			}
			want, err := os.ReadFile(bytesFile)
			if err != nil {
				t.Fatal(err)
			}
			wantHash, err := os.ReadFile(hashFile)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, want) {
				t.Errorf("Encode(%s) =\n%s\nwant\n%s", tt.name, b, want)
			}
			if hash != strings.TrimSpace(string(wantHash)) {
				t.Errorf("leaf hash of %s = %s, want %s", tt.name, hash, wantHash)
			}
			// The pinned bytes parse back to the entry, and only to it.
			e, err := ledger.Parse(want)
			if err != nil {
				t.Fatalf("Parse(%s) = %v, want nil", bytesFile, err)
			}
			if again, err := ledger.Encode(e); err != nil || !bytes.Equal(again, want) {
				t.Errorf("Encode(Parse(%s)) = %s, %v; want the same bytes", bytesFile, again, err)
			}
			if e.Seq != tt.entry.Seq || e.Prev != tt.entry.Prev || e.Time != tt.entry.Time || e.Tenant != tt.entry.Tenant {
				t.Errorf("Parse(%s) = %+v, want %+v", bytesFile, e, tt.entry)
			}
		})
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// canonical returns the RFC 8785 encoding of the golden decision entry
// with fields replaced (or, for a nil value, removed), bypassing Encode's
// checks so that Parse alone must reject it.
func canonical(t *testing.T, set map[string]any) []byte {
	t.Helper()
	b, err := ledger.Encode(&goldenEntries[1].entry)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range set {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	c, err := jcs.Transform(raw)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type jsonNull struct{}

func (jsonNull) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

func TestParseRejects(t *testing.T) {
	good, err := ledger.Encode(&goldenEntries[1].entry)
	if err != nil {
		t.Fatal(err)
	}
	replace := func(old, new string) []byte {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("%q is not in the golden entry", old)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	hash31 := base64.StdEncoding.EncodeToString(make([]byte, 31))
	urlHash := base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff}, 16)) // has - and _
	tests := []struct {
		name    string
		b       []byte
		wantErr string // a part of the error message naming the reason
	}{
		{"space after brace", append([]byte("{ "), good[1:]...), "canonical"},
		{"newline at end", append(append([]byte{}, good...), '\n'), "canonical"},
		{"keys out of order", reorderFirstKeys(t, good), "canonical"},
		{"escaped letter", replace(`"tenant":"acme"`, `"tenant":"\u0061cme"`), "canonical"},
		{"escaped slash", replace(`"kind":"decision"`, `"kind":"deci\/sion"`), "canonical"},
		{"number spelled 1.0", replace(`"v":1`, `"v":1.0`), "canonical"},
		{"number spelled 4.1e1", replace(`"seq":41`, `"seq":4.1e1`), "canonical"},
		{"unknown field", canonical(t, map[string]any{"extra": 1}), "unknown field"},
		{"trailing object", append(append([]byte{}, good...), "{}"...), "not JSON"},
		{"two entries", append(append([]byte{}, good...), good...), "not JSON"},
		{"not JSON", []byte(`{"v":1,`), "not JSON"},
		{"array", []byte(`[1]`), ""},
		{"empty", []byte{}, "not JSON"},
		{"v 0", canonical(t, map[string]any{"v": 0}), "version"},
		{"v 2", canonical(t, map[string]any{"v": 2}), "version"},
		{"v missing", canonical(t, map[string]any{"v": nil}), "version"},
		{"tenant upper case", canonical(t, map[string]any{"tenant": "Acme"}), "tenant"},
		{"tenant empty", canonical(t, map[string]any{"tenant": ""}), "tenant"},
		{"tenant too long", canonical(t, map[string]any{"tenant": strings.Repeat("a", 64)}), "tenant"},
		{"tenant leading dash", canonical(t, map[string]any{"tenant": "-acme"}), "tenant"},
		{"negative seq", canonical(t, map[string]any{"seq": -1}), "negative seq"},
		{"fractional seq", canonical(t, map[string]any{"seq": 1.5}), "malformed"},
		{"seq missing", canonical(t, map[string]any{"seq": nil, "prev": ""}), "missing"},
		{"seq null", canonical(t, map[string]any{"seq": jsonNull{}, "prev": ""}), "missing"},
		{"prev missing at seq 0", canonical(t, map[string]any{"seq": 0, "prev": nil}), "missing"},
		{"key in upper case", canonical(t, map[string]any{"seq": nil, "Seq": 41}), "misspelt"},
		{"key in two cases", canonical(t, map[string]any{"Seq": 40}), "misspelt"},
		{"all keys in mixed case", []byte(strings.NewReplacer(`"actor"`, `"ACtor"`, `"body"`, `"BodY"`).Replace(string(good))), "misspelt"},
		{"empty id", canonical(t, map[string]any{"id": ""}), "id"},
		{"empty kind", canonical(t, map[string]any{"kind": ""}), "kind"},
		{"empty actor", canonical(t, map[string]any{"actor": ""}), "actor"},
		{"time with 5 fraction digits", canonical(t, map[string]any{"time": "2025-01-02T03:04:05.12000Z"}), "time"},
		{"time with 7 fraction digits", canonical(t, map[string]any{"time": "2025-01-02T03:04:05.1200000Z"}), "time"},
		{"time without fraction", canonical(t, map[string]any{"time": "2025-01-02T03:04:05Z"}), "time"},
		{"time with offset", canonical(t, map[string]any{"time": "2025-01-02T04:04:05.120000+01:00"}), "time"},
		{"time with zero offset", canonical(t, map[string]any{"time": "2025-01-02T03:04:05.120000+00:00"}), "time"},
		{"time lower-case z", canonical(t, map[string]any{"time": "2025-01-02T03:04:05.120000z"}), "time"},
		{"time with a space", canonical(t, map[string]any{"time": "2025-01-02 03:04:05.120000Z"}), "time"},
		{"time out of range", canonical(t, map[string]any{"time": "2025-02-30T03:04:05.120000Z"}), "time"},
		{"prev at seq 0", canonical(t, map[string]any{"seq": 0}), "prev must be empty"},
		{"prev empty at seq 41", canonical(t, map[string]any{"prev": ""}), "prev"},
		{"prev of 31 bytes", canonical(t, map[string]any{"prev": hash31}), "prev"},
		{"prev without padding", canonical(t, map[string]any{"prev": strings.TrimRight(goldenPrev, "=")}), "prev"},
		{"prev in URL alphabet", canonical(t, map[string]any{"prev": urlHash}), "prev"},
		{"prev in hex", canonical(t, map[string]any{"prev": strings.Repeat("ab", 32)}), "prev"},
		{"body array", canonical(t, map[string]any{"body": []int{1}}), "body"},
		{"body string", canonical(t, map[string]any{"body": "{}"}), "body"},
		{"body null", canonical(t, map[string]any{"body": jsonNull{}}), "body"},
		{"body missing", canonical(t, map[string]any{"body": nil}), "body"},
		{"oversize", canonical(t, map[string]any{"body": map[string]string{"x": strings.Repeat("a", ledger.MaxEntrySize)}}), "limit"},
	}
	if _, err := ledger.Parse(good); err != nil {
		t.Fatalf("Parse(golden) = %v, want nil", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ledger.Parse(tt.b)
			if err == nil {
				t.Fatalf("Parse(%.80q) = %+v, nil; want an error", tt.b, e)
			}
			if !errors.Is(err, ledger.ErrMalformed) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse(%.80q) = %v, want ErrMalformed naming %q", tt.b, err, tt.wantErr)
			}
		})
	}
}

// reorderFirstKeys moves the first member of a canonical object after the
// second one: the same object, not in canonical order.
func reorderFirstKeys(t *testing.T, b []byte) []byte {
	t.Helper()
	// {"actor":"...","body":{...},...}: the actor member ends at the first
	// `","body":` and the body ends before `,"id":`.
	i := bytes.Index(b, []byte(`,"body":`))
	j := bytes.Index(b, []byte(`,"id":`))
	if i < 0 || j < i {
		t.Fatalf("unexpected layout %q", b)
	}
	actor, body := b[1:i], b[i+1:j]
	out := append([]byte("{"), body...)
	out = append(append(append(out, ','), actor...), b[j:]...)
	if _, _, err := ledger.ParseObject(out); err != nil {
		t.Fatalf("ParseObject(reordered) = %v, want nil", err)
	}
	return out
}

func TestParseObject(t *testing.T) {
	want, err := ledger.Encode(&goldenEntries[1].entry)
	if err != nil {
		t.Fatal(err)
	}
	indented, err := json.MarshalIndent(json.RawMessage(want), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		obj  []byte
	}{
		{"canonical", want},
		{"indented", indented},
		{"reordered", reorderFirstKeys(t, want)},
		{"escaped", bytes.Replace(want, []byte(`"acme"`), []byte(`"\u0061cme"`), 1)},
		{"go json (HTML escapes)", func() []byte { b, _ := json.Marshal(goldenEntries[1].entry); return b }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, canon, err := ledger.ParseObject(tt.obj)
			if err != nil {
				t.Fatalf("ParseObject(%s) = %v, want nil", tt.name, err)
			}
			if !bytes.Equal(canon, want) {
				t.Errorf("ParseObject(%s) canonical bytes =\n%s\nwant Encode's\n%s", tt.name, canon, want)
			}
			if enc, err := ledger.Encode(e); err != nil || !bytes.Equal(enc, canon) {
				t.Errorf("Encode(ParseObject(%s)) = %s, %v; want the canonical bytes", tt.name, enc, err)
			}
		})
	}
	if _, _, err := ledger.ParseObject(canonical(t, map[string]any{"prev": nil})); !errors.Is(err, ledger.ErrMalformed) {
		t.Errorf("ParseObject(without prev) = %v, want ErrMalformed", err)
	}
}

func TestTimeRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   time.Time
		want string
	}{
		{"utc micros", time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC), "2025-01-02T03:04:05.000006Z"},
		{"nanos truncated", time.Date(2025, 1, 2, 3, 4, 5, 999999999, time.UTC), "2025-01-02T03:04:05.999999Z"},
		{"whole second", time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), "2025-01-02T03:04:05.000000Z"},
		{"other zone", time.Date(2025, 1, 2, 4, 4, 5, 120000000, time.FixedZone("CET", 3600)), "2025-01-02T03:04:05.120000Z"},
		{"year 1", time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC), "0001-01-01T00:00:00.000001Z"},
		{"year 9999", time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), "9999-12-31T23:59:59.999999Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ledger.FormatTime(tt.in)
			if s != tt.want {
				t.Fatalf("FormatTime(%v) = %s, want %s", tt.in, s, tt.want)
			}
			got, err := ledger.ParseTime(s)
			if err != nil {
				t.Fatalf("ParseTime(%s) = %v, want nil", s, err)
			}
			if want := tt.in.UTC().Truncate(time.Microsecond); !got.Equal(want) || got.Location() != time.UTC {
				t.Errorf("ParseTime(FormatTime(%v)) = %v, want %v in UTC", tt.in, got, want)
			}
		})
	}
	for _, s := range []string{"", "2025-01-02T03:04:05.00006Z", "2025-01-02T03:04:05.0000060Z",
		"2025-01-02T03:04:05.000006+00:00", "2025-01-02T03:04:05,000006Z", "2025-13-02T03:04:05.000006Z"} {
		if got, err := ledger.ParseTime(s); err == nil {
			t.Errorf("ParseTime(%q) = %v, nil; want an error", s, got)
		}
	}
}

// FuzzParse checks that Parse accepts only canonical bytes: whatever it
// accepts re-encodes to exactly the same bytes, so one entry has one leaf
// hash. Seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, g := range goldenEntries {
		if b, err := ledger.Encode(&g.entry); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ledger.Parse(b)
		if err != nil {
			if !errors.Is(err, ledger.ErrMalformed) {
				t.Fatalf("Parse(%q) = %v, want ErrMalformed", b, err)
			}
			return
		}
		enc, err := ledger.Encode(e)
		if err != nil {
			t.Fatalf("Encode(Parse(%q)) = %v, want nil", b, err)
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("Encode(Parse(b)) = %q, want b = %q", enc, b)
		}
		if _, canon, err := ledger.ParseObject(b); err != nil || !bytes.Equal(canon, b) {
			t.Fatalf("ParseObject(%q) = %q, %v; want the same bytes", b, canon, err)
		}
	})
}
