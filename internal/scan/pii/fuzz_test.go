package pii

import (
	"slices"
	"testing"

	"github.com/wardenhq/warden/internal/scan"
)

// FuzzDetect checks, on any input, that every span lies in the text on
// UTF-8 boundaries, that findings are sorted and disjoint, carry a known
// category with its severity and a confidence in (0, 1], that Detect
// keeps what out held, and that it answers the same twice. Seeds live in
// testdata/fuzz/FuzzDetect.
func FuzzDetect(f *testing.F) {
	d := New(Options{Regions: []string{"GB", "DE"}})
	severity := map[string]string{
		CategoryEmail: scan.Low, CategoryPhone: scan.Low, CategoryIPAddress: scan.Low,
		CategoryCreditCard: scan.High, CategoryUSSSN: scan.High, CategoryIBAN: scan.High,
	}
	prior := scan.Match{Category: "prior", Start: -1}
	f.Fuzz(func(t *testing.T, text string) {
		out := d.Detect(scan.Input{Text: text}, []scan.Match{prior})
		if len(out) == 0 || out[0] != prior {
			t.Fatalf("Detect dropped or changed what out held: %+v", out)
		}
		ms := out[1:]
		for i, m := range ms {
			checkSpan(t, text, m)
			if i > 0 && ms[i-1].End > m.Start {
				t.Fatalf("findings %d and %d overlap or are out of order: %+v %+v", i-1, i, ms[i-1], m)
			}
			if want, ok := severity[m.Category]; !ok || m.Severity != want {
				t.Fatalf("finding %+v: unknown category or wrong severity", m)
			}
			if m.Confidence <= 0 || m.Confidence > 1 || m.Rule == "" {
				t.Fatalf("finding %+v: confidence outside (0, 1] or no rule", m)
			}
		}
		if again := d.Detect(scan.Input{Text: text}, nil); !slices.Equal(again, ms) {
			t.Fatalf("Detect is not deterministic: %+v then %+v", ms, again)
		}
	})
}
