package scan

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// substr flags every occurrence of its words.
type substr struct {
	words    []string
	category string
}

func (d substr) Name() string { return "substr" }
func (d substr) Detect(in Input, out []Match) []Match {
	for _, w := range d.words {
		for i := 0; w != ""; {
			j := strings.Index(in.Text[i:], w)
			if j < 0 {
				break
			}
			out = append(out, Match{Category: d.category, Rule: "w", Severity: High, Confidence: 1, Start: i + j, End: i + j + len(w)})
			i += j + len(w)
		}
	}
	return out
}

// broken reports a span it should not.
type broken struct{ start, end int }

func (broken) Name() string { return "broken" }
func (b broken) Detect(in Input, out []Match) []Match {
	return append(out, Match{Category: "x", Rule: "x", Severity: Low, Start: b.start, End: b.end})
}

func TestScanValuePathsAndKeys(t *testing.T) {
	s := New(Limits{}, substr{words: []string{"KEY"}, category: "secret.k"})
	v := map[string]any{"a/b": "xKEY", "list": []any{"no", map[string]any{"KEY~": int64(1)}}, "n": 3.5, "z": nil}
	res := s.ScanValue(context.Background(), v, "/args", Argument)
	var got []string
	for _, f := range res.Findings {
		got = append(got, f.Path+":"+itoa(f.Start)+"-"+itoa(f.End)+":"+map[bool]string{true: "key", false: "value"}[f.InKey])
	}
	want := "/args/a~1b:1-4:value /args/list/1/KEY~0:0-3:key"
	if strings.Join(got, " ") != want || res.Incomplete {
		t.Fatalf("ScanValue findings = %v (incomplete %v), want %s", got, res.Incomplete, want)
	}
}

func TestScanLimits(t *testing.T) {
	d := substr{words: []string{"K"}, category: "secret.k"}
	for _, tc := range []struct {
		name   string
		limits Limits
		v      any
		why    string
	}{
		{"bytes", Limits{MaxBytes: 10}, []any{"12345", "67890", "1"}, "more text"},
		{"strings", Limits{MaxStrings: 2}, []any{"a", "b", "c"}, "more strings"},
		{"depth", Limits{}, nest(MaxDepth + 2), "nested deeper"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := New(tc.limits, d).ScanValue(context.Background(), tc.v, "", Argument)
			if !res.Incomplete || !strings.Contains(res.Why, tc.why) {
				t.Fatalf("ScanValue = %+v, want incomplete because %q", res, tc.why)
			}
		})
	}
	s := New(Limits{Timeout: time.Nanosecond}, d)
	clock := time.Unix(0, 0)
	s.now = func() time.Time { clock = clock.Add(time.Second); return clock }
	if res := s.ScanText(context.Background(), "K", "", Argument); !res.Incomplete || !strings.Contains(res.Why, "time") {
		t.Fatalf("ScanText past the deadline = %+v, want incomplete", res)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if res := New(Limits{}, d).ScanText(ctx, "K", "", Argument); !res.Incomplete {
		t.Fatalf("ScanText with a cancelled context = %+v, want incomplete", res)
	}
	for _, b := range []broken{{-1, 2}, {0, 99}, {2, 2}, {1, 2}} {
		if res := New(Limits{}, b).ScanText(context.Background(), "é!", "", Argument); !res.Incomplete || len(res.Findings) != 0 {
			t.Errorf("span %d-%d of \"é!\" = %+v, want refused and the scan incomplete", b.start, b.end, res)
		}
	}
}

func nest(n int) any {
	var v any = "x"
	for range n {
		v = []any{v}
	}
	return v
}

func TestRedact(t *testing.T) {
	s := New(Limits{}, substr{words: []string{"SEC", "RET"}, category: "secret.k"}, substr{words: []string{"bob"}, category: "pii.name"})
	v := map[string]any{"t": "aSECRETb bob", "SEC": "x", "[REDACTED:secret.k]": "taken", "n": []any{int64(1), "bob"}}
	res := s.ScanValue(context.Background(), v, "", Argument)
	out, recs := Redact(v, "", res.Findings, []byte("k"), nil)
	b, _ := json.Marshal(out)
	want := `{"[REDACTED:secret.k]":"taken","[REDACTED:secret.k]#2":"x","n":[1,"[REDACTED:pii.name]"],"t":"a[REDACTED:secret.k]b [REDACTED:pii.name]"}`
	if string(b) != want {
		t.Fatalf("Redact = %s\nwant     %s", b, want)
	}
	if len(recs) != len(res.Findings) || recs[0].HMAC == "" || recs[0].HMAC == ValueHMAC([]byte("other"), "SEC") {
		t.Fatalf("redaction records = %+v", recs)
	}
	if v["t"] != "aSECRETb bob" {
		t.Fatal("Redact changed its input")
	}
	only, _ := Redact(v, "", res.Findings, []byte("k"), func(f Finding) bool { return f.Category == "pii.name" })
	if m := only.(map[string]any); m["t"] != "aSECRETb [REDACTED:pii.name]" || m["SEC"] != "x" {
		t.Fatalf("Redact(pii only) = %v", only)
	}
}

// FuzzRedact: whatever the text and the words found in it, every finding
// lies on UTF-8 boundaries, and no found word survives redaction outside a
// placeholder (each placeholder is cut out before looking, so a word that
// only appears by joining text to a placeholder does not count).
func FuzzRedact(f *testing.F) {
	f.Add("token AKIA123 and AKIA123 again", "AKIA123", "and")
	f.Add("ééé", "é", "éé")
	f.Add("overlap abcdef", "abcd", "cdef")
	f.Add("aaaa", "aa", "a")
	f.Fuzz(func(t *testing.T, text, w1, w2 string) {
		if !utf8.ValidString(text) || !utf8.ValidString(w1) || !utf8.ValidString(w2) {
			return
		}
		s := New(Limits{}, substr{words: []string{w1, w2}, category: "secret.f"})
		res := s.ScanText(context.Background(), text, "", Argument)
		for _, fd := range res.Findings {
			if fd.Start < 0 || fd.End > len(text) || !utf8.RuneStart(text[fd.Start]) || (fd.End < len(text) && !utf8.RuneStart(text[fd.End])) {
				t.Fatalf("finding %+v not on UTF-8 boundaries of %q", fd, text)
			}
		}
		out := strings.ReplaceAll(RedactText(text, res.Findings), Placeholder("secret.f"), "\x00")
		for _, w := range []string{w1, w2} {
			if w != "" && !strings.Contains(w, "\x00") && strings.Contains(out, w) {
				t.Fatalf("RedactText(%q) = %q still holds %q", text, out, w)
			}
		}
	})
}

// counting records each input it is asked about.
type counting struct {
	substr
	seen map[Input]int
}

func (c counting) Detect(in Input, out []Match) []Match {
	c.seen[in]++
	return c.substr.Detect(in, out)
}

// A short string seen again in one scan is not scanned again, and its
// findings are recorded at every path it appears; an input that differs
// in any field is scanned on its own.
func TestRepeatedStringsScannedOnce(t *testing.T) {
	c := counting{substr: substr{words: []string{"KEY"}, category: "secret.k"}, seen: map[Input]int{}}
	var rows []any
	for range 3 {
		rows = append(rows, map[string]any{"KEY": "aKEY", "b": "aKEY"})
	}
	long := strings.Repeat("x", 100) + "KEY"
	rows = append(rows, long, long)
	res := New(Limits{}, c).ScanValue(context.Background(), rows, "", Argument)
	var got []string
	for _, f := range res.Findings {
		got = append(got, f.Path+":"+itoa(f.Start))
	}
	want := "/0/KEY:0 /0/KEY:1 /0/b:1 /1/KEY:0 /1/KEY:1 /1/b:1 /2/KEY:0 /2/KEY:1 /2/b:1 /3:100 /4:100"
	if strings.Join(got, " ") != want {
		t.Fatalf("findings %v, want %s", got, want)
	}
	for in, n := range c.seen {
		want := 1
		if len(in.Text) > memoMax {
			want = 2
		}
		if n != want {
			t.Errorf("%+v scanned %d times, want %d", in, n, want)
		}
	}
	if len(c.seen) != 5 { // two keys, the value under two members, the long text
		t.Errorf("distinct inputs %d, want 5: %v", len(c.seen), c.seen)
	}
}
