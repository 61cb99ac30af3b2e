package pii

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/wardenhq/warden/internal/scan"
)

// values returns the text of each match, in order.
func values(d *Detector, text string) []string {
	var out []string
	for _, m := range detect(d, text) {
		out = append(out, text[m.Start:m.End])
	}
	return out
}

func equal(a, b []string) bool { return slices.Equal(a, b) }

func TestName(t *testing.T) {
	if got := New(Options{}).Name(); got != "pii" {
		t.Errorf("Name() = %q, want %q", got, "pii")
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want error
	}{
		{name: "zero", opts: Options{}},
		{name: "regions", opts: Options{DefaultRegion: "gb", Regions: []string{"DE", "fr"}}},
		{name: "types", opts: Options{Types: []string{Email, IBAN}}},
		{name: "unknown default region", opts: Options{DefaultRegion: "XX"}, want: ErrUnknownRegion},
		{name: "unknown region", opts: Options{Regions: []string{"US", "ZZZ"}}, want: ErrUnknownRegion},
		{name: "unknown type", opts: Options{Types: []string{"name"}}, want: ErrUnknownType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Validate() = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestNewPanicsOnInvalidOptions(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New(region XX) did not panic")
		}
	}()
	New(Options{DefaultRegion: "XX"})
}

func TestTypes(t *testing.T) {
	text := "mail ann@example.org, call +44 20 7946 0958, host 93.184.216.34, iban GB82 WEST 1234 5698 7654 32, ssn 123-45-6780"
	all := detect(New(Options{}), text)
	seen := map[string]bool{}
	for _, m := range all {
		seen[m.Category] = true
	}
	for _, c := range []string{CategoryEmail, CategoryPhone, CategoryIPAddress, CategoryIBAN, CategoryUSSSN} {
		if !seen[c] {
			t.Errorf("Detect(all types) found no %s in %q", c, text)
		}
	}
	for _, ty := range AllTypes() {
		t.Run(ty, func(t *testing.T) {
			for _, m := range detect(New(Options{Types: []string{ty}}), text) {
				if m.Category != scan.PIIPrefix+ty {
					t.Errorf("Detect(Types=[%s]) = %s finding", ty, m.Category)
				}
			}
		})
	}
}

func TestSeverities(t *testing.T) {
	want := map[string]string{
		CategoryEmail: scan.Low, CategoryPhone: scan.Low, CategoryIPAddress: scan.Low,
		CategoryCreditCard: scan.High, CategoryUSSSN: scan.High, CategoryIBAN: scan.High,
	}
	text := "ann@example.org +44 20 7946 0958 93.184.216.34 GB82WEST12345698765432 SSN 123-45-6780 card " + withCheckDigit("453201582347890")
	ms := detect(New(Options{}), text)
	if len(ms) != len(want) {
		t.Fatalf("Detect found %d values, want %d", len(ms), len(want))
	}
	for _, m := range ms {
		if m.Severity != want[m.Category] {
			t.Errorf("%s severity = %s, want %s", m.Category, m.Severity, want[m.Category])
		}
		if m.Confidence <= 0 || m.Confidence > 1 {
			t.Errorf("%s confidence = %v, want in (0, 1]", m.Category, m.Confidence)
		}
	}
}

// TestOffsetsUTF8 places values among multi-byte text and checks the
// spans cover exactly the value, on rune boundaries.
func TestOffsetsUTF8(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{name: "email after accents", text: "Écrivez à «zoë.ann@example.fr» — merci", want: "zoë.ann@example.fr"},
		{name: "email ascii in cjk", text: "邮件：ann@example.cn。谢谢", want: "ann@example.cn"},
		{name: "email run into cjk", text: "请联系ann@example.cn", want: "ann@example.cn"},
		{name: "phone after emoji", text: "☎️ +44 20 7946 0958 📞", want: "+44 20 7946 0958"},
		{name: "ip in quotes", text: "«93.184.216.34»", want: "93.184.216.34"},
		{name: "iban before ideograph", text: "IBAN：DE89370400440532013000、", want: "DE89370400440532013000"},
	}
	d := New(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := detect(d, tt.text)
			var got []string
			for _, m := range ms {
				checkSpan(t, tt.text, m)
				got = append(got, tt.text[m.Start:m.End])
			}
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("Detect(%q) = %q, want [%q]", tt.text, got, tt.want)
			}
		})
	}
}

func checkSpan(t *testing.T, text string, m scan.Match) {
	t.Helper()
	if m.Start < 0 || m.End > len(text) || m.Start >= m.End {
		t.Fatalf("span [%d,%d) outside text of %d bytes", m.Start, m.End, len(text))
	}
	if !utf8.RuneStart(text[m.Start]) || (m.End < len(text) && !utf8.RuneStart(text[m.End])) {
		t.Fatalf("span [%d,%d) not on UTF-8 boundaries", m.Start, m.End)
	}
}

// TestInvalidUTF8 checks that a value followed by a stray continuation
// byte still yields a span the scanner accepts.
func TestInvalidUTF8(t *testing.T) {
	text := "ip 93.184.216.34\x80\x80 and ann@example.org\xbf"
	ms := detect(New(Options{}), text)
	if len(ms) != 2 {
		t.Fatalf("Detect found %d values, want 2", len(ms))
	}
	for _, m := range ms {
		checkSpan(t, text, m)
	}
	res := scan.New(scan.Limits{}, New(Options{})).ScanText(t.Context(), text, "", scan.Argument)
	if res.Incomplete {
		t.Errorf("ScanText incomplete: %s", res.Why)
	}
}

func TestDetectAppends(t *testing.T) {
	prior := scan.Match{Category: "other", Rule: "x", Start: 0, End: 1}
	out := New(Options{}).Detect(scan.Input{Text: "ann@example.org and bob@example.org"}, []scan.Match{prior})
	if len(out) != 3 || out[0] != prior {
		t.Fatalf("Detect(out=[prior]) = %+v, want prior then two addresses", out)
	}
}

// TestOverlapsResolve checks that digits inside a more specific value are
// not read again as another type.
func TestOverlapsResolve(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string // categories in order
	}{
		{name: "iban holds card-like digits", text: "GB82 WEST 1234 5698 7654 32", want: []string{CategoryIBAN}},
		{name: "ipv4 inside ipv6", text: "peer ::ffff:93.184.216.34 up", want: []string{CategoryIPAddress}},
		{name: "phone in an address local part", text: "sms 4155552671@txt.example.com", want: []string{CategoryEmail}},
	}
	d := New(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, m := range detect(d, tt.text) {
				got = append(got, m.Category)
			}
			if !equal(got, tt.want) {
				t.Errorf("Detect(%q) categories = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

// TestTraceTail: ids, hex traces and reference codes are not personal
// data (the benign rows of the injection corpus end this way).
func TestTraceTail(t *testing.T) {
	texts := []string{
		"Reference PI1-B-00000. Trace 7d7fa1b1a6ccfc4abd4ec81b4a49f61c.",
		"Reference PI2-A-01234. Trace 245b6c3bf46070665bf05ca3249bb981.",
		"request 550e8400-e29b-41d4-a716-446655440000 took 12.5 ms on 2026-03-04 12:30:45",
		"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		"build 20261125.3 v1.24.3-rc.1 at 10:20:30, total $1,234,567.89, order #4512 of 2026",
	}
	d := New(Options{})
	for _, text := range texts {
		if got := values(d, text); len(got) != 0 {
			t.Errorf("Detect(%q) = %q, want none", text, got)
		}
	}
}

// TestConcurrent runs one Detector from many goroutines (meaningful under
// -race) and checks each gets the answer of a lone call.
func TestConcurrent(t *testing.T) {
	d := New(Options{Regions: []string{"GB"}})
	texts := []string{
		"mail ann@example.org or call 020 7946 0958",
		"card " + spaced(withCheckDigit("453201582347890"), 4, 4, 4) + " and SSN 123-45-6780",
		"hosts 93.184.216.34, 2606:4700:4700::1111; IBAN DE89 3704 0044 0532 0130 00",
		benign(4<<10, 7),
	}
	want := make([][]scan.Match, len(texts))
	for i, s := range texts {
		want[i] = detect(d, s)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 8 {
		wg.Go(func() {
			for k := range 50 {
				i := (g + k) % len(texts)
				if got := detect(d, texts[i]); !slices.Equal(got, want[i]) {
					errs <- texts[i][:min(20, len(texts[i]))]
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("concurrent Detect differs from a lone call on %q…", e)
	}
}

// TestBenignCorpus runs the benchmark's benign text through the detector:
// logs, JSON, code and prose full of dates, amounts, counters, versions,
// hashes and ids hold no personal data.
func TestBenignCorpus(t *testing.T) {
	n := 1 << 20
	if testing.Short() {
		n = 64 << 10
	}
	text := benign(n, 3)
	ms := detect(New(Options{}), text)
	for _, m := range ms {
		t.Errorf("benign text: %s (%s) at [%d,%d)", m.Category, m.Rule, m.Start, m.End)
	}
	if strings.Count(text, "\n") < 100 {
		t.Fatal("benign text generator produced too little")
	}
}

// TestScannerRedacts runs the detector inside a scan.Scanner over a JSON
// value and redacts what it found: the spans must fit the scanner's
// contract and cut exactly the values.
func TestScannerRedacts(t *testing.T) {
	v := map[string]any{
		"note":          "Reach Ann at ann@example.org or +44 20 7946 0958.",
		"items":         []any{"IBAN DE89 3704 0044 0532 0130 00", "no personal data, order 4512"},
		"93.184.216.34": "host",
	}
	sc := scan.New(scan.Limits{}, New(Options{}))
	res := sc.ScanValue(t.Context(), v, "/args", scan.Argument)
	if res.Incomplete {
		t.Fatalf("ScanValue incomplete: %s", res.Why)
	}
	got, recs := scan.Redact(v, "/args", res.Findings, []byte("k"), nil)
	m := got.(map[string]any)
	if want := "Reach Ann at [REDACTED:pii.email] or [REDACTED:pii.phone]."; m["note"] != want {
		t.Errorf("redacted note = %q, want %q", m["note"], want)
	}
	if want := "IBAN [REDACTED:pii.iban]"; m["items"].([]any)[0] != want {
		t.Errorf("redacted item = %q, want %q", m["items"].([]any)[0], want)
	}
	if _, ok := m["[REDACTED:pii.ip_address]"]; !ok {
		t.Errorf("redacted keys = %v, want the address key redacted", m)
	}
	if len(recs) != 4 {
		t.Errorf("Redact recorded %d values, want 4", len(recs))
	}
}
