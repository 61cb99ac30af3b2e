package secret_test

import (
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/wardenhq/warden/internal/scan"
	"github.com/wardenhq/warden/internal/scan/secret"
)

// FuzzDetect checks, on any text, that findings lie in the text on UTF-8
// boundaries (the scanner rejects any other span), that they are well
// formed and the same from one call to the next, and that every format
// rule's plan finds exactly what a scan of the whole text finds. Seeds
// are under testdata/fuzz/FuzzDetect.
func FuzzDetect(f *testing.F) {
	f.Add("AWS_SECRET_ACCESS_KEY=" + fake(90, 40, b64chars))
	f.Add("postgres://app:" + fake(91, 12, alnum) + "@db:5432/x\nAuthorization: Bearer " + fake(92, 30, alnum))
	f.Add("é token: \xff" + fake(93, 20, alnum) + "ſecret=\xe2\x84")
	d := detector(f)
	f.Fuzz(func(t *testing.T, text string) {
		ms := d.Detect(scan.Input{Text: text}, nil)
		for _, m := range ms {
			if m.Start < 0 || m.End > len(text) || m.Start >= m.End {
				t.Fatalf("Detect(%q): span [%d,%d) outside the text", text, m.Start, m.End)
			}
			if !utf8.RuneStart(text[m.Start]) || m.End < len(text) && !utf8.RuneStart(text[m.End]) {
				t.Fatalf("Detect(%q): span [%d,%d) not on UTF-8 boundaries", text, m.Start, m.End)
			}
			if m.Category != scan.SecretPrefix+m.Rule || scan.SeverityRank(m.Severity) == 0 || m.Confidence <= 0 || m.Confidence > 1 {
				t.Fatalf("Detect(%q): malformed finding %+v", text, m)
			}
		}
		if again := d.Detect(scan.Input{Text: text}, nil); !slices.Equal(ms, again) {
			t.Fatalf("Detect(%q) = %+v, then %+v", text, ms, again)
		}
		if diffs, _ := secret.PlanMismatches(d, text); len(diffs) > 0 {
			t.Fatalf("plans differ from a whole-text scan on %q: %v", text, diffs)
		}
	})
}
