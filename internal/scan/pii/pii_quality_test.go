package pii

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/scan/scantest"

	"github.com/wardenhq/warden/internal/scan"
)

// row is one labelled line; spans are present in the presidio set only.
type row struct {
	ID    string `json:"id"`
	Text  string `json:"text"`
	Label int    `json:"label"`
	Spans []struct {
		Type      string `json:"type"`
		StartByte int    `json:"start_byte"`
		EndByte   int    `json:"end_byte"`
	} `json:"spans"`
	AttackClass string `json:"attack_class"`
}

// readRows reads a JSON Lines file of testdata, or skips the test when the
// shared data is not there.
func readRows(t *testing.T, name string) []row { return scantest.Rows[row](t, name) }

// presidioTypes maps the presidio entity names to ours.
var presidioTypes = map[string]string{
	"EMAIL_ADDRESS": Email,
	"PHONE_NUMBER":  Phone,
	"CREDIT_CARD":   CreditCard,
	"US_SSN":        USSSN,
	"IBAN_CODE":     IBAN,
	"IP_ADDRESS":    IPAddress,
}

// score counts span-level outcomes of one type.
type score struct{ pred, predHit, gold, goldHit int }

func (s score) precision() float64 { return scantest.Ratio(s.predHit, s.pred) }
func (s score) recall() float64    { return scantest.Ratio(s.goldHit, s.gold) }
func (s score) fp() int            { return s.pred - s.predHit }

func detect(d *Detector, text string) []scan.Match {
	return d.Detect(scan.Input{Text: text, Provenance: scan.Argument}, nil)
}

// TestQualityPresidio measures span-level precision and recall per type on
// presidio-research's synthetic set: a predicted span counts when it
// overlaps a gold span of its type.
func TestQualityPresidio(t *testing.T) {
	rows := readRows(t, "pii/presidio_synth_v2.jsonl")
	d := New(Options{})
	scores := map[string]*score{}
	for _, ty := range AllTypes() {
		scores[ty] = &score{}
	}
	negRows, negHit := 0, 0
	for _, r := range rows {
		type span struct {
			ty         string
			start, end int
		}
		var gold []span
		for _, s := range r.Spans {
			if ty, ok := presidioTypes[s.Type]; ok {
				gold = append(gold, span{ty, s.StartByte, s.EndByte})
				scores[ty].gold++
			}
		}
		ms := detect(d, r.Text)
		if r.Label == 0 {
			negRows++
			if len(ms) > 0 {
				negHit++
			}
		}
		hit := make([]bool, len(gold))
		for _, m := range ms {
			ty := strings.TrimPrefix(m.Category, scan.PIIPrefix)
			sc := scores[ty]
			if sc == nil {
				t.Fatalf("row %s: unknown category %q", r.ID, m.Category)
			}
			sc.pred++
			ok := false
			for i, g := range gold {
				if g.ty == ty && m.Start < g.end && g.start < m.End {
					hit[i], ok = true, true
				}
			}
			if ok {
				sc.predHit++
			} else if testing.Verbose() {
				t.Logf("false positive: row %s %s [%d,%d) rule %s", r.ID, m.Category, m.Start, m.End, m.Rule)
			}
		}
		for i, g := range gold {
			if hit[i] {
				scores[g.ty].goldHit++
			} else if testing.Verbose() {
				t.Logf("missed: row %s %s [%d,%d)", r.ID, g.ty, g.start, g.end)
			}
		}
	}
	var tab strings.Builder
	fmt.Fprintf(&tab, "\n%-12s %5s %5s %5s %9s %7s\n", "type", "gold", "pred", "fp", "precision", "recall")
	for _, ty := range AllTypes() {
		s := scores[ty]
		fmt.Fprintf(&tab, "%-12s %5d %5d %5d %9.3f %7.3f\n", ty, s.gold, s.pred, s.fp(), s.precision(), s.recall())
	}
	fmt.Fprintf(&tab, "rows labelled 0 with any finding: %d of %d (FPR %.3f)", negHit, negRows, scantest.Ratio(negHit, negRows))
	t.Log(tab.String())

	checks := []struct {
		name            string
		types           []string
		minPrec, minRec float64
		maxFP           int
	}{
		{name: "email", types: []string{Email}, minPrec: 0.95, minRec: 0.90, maxFP: -1},
		{name: "credit card", types: []string{CreditCard}, minPrec: 0.95, minRec: 0.90, maxFP: -1},
		{name: "phone", types: []string{Phone}, minPrec: 0.80, minRec: 0.70, maxFP: -1},
		{name: "ssn+iban+ip", types: []string{USSSN, IBAN, IPAddress}, minPrec: 0, minRec: 0.90, maxFP: 2},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			var s score
			for _, ty := range c.types {
				x := scores[ty]
				s.pred, s.predHit, s.gold, s.goldHit = s.pred+x.pred, s.predHit+x.predHit, s.gold+x.gold, s.goldHit+x.goldHit
			}
			if s.gold == 0 {
				t.Fatalf("no gold spans of %v: the data set changed", c.types)
			}
			if p := s.precision(); p < c.minPrec {
				t.Errorf("precision = %.3f, want >= %.2f", p, c.minPrec)
			}
			if r := s.recall(); r < c.minRec {
				t.Errorf("recall = %.3f, want >= %.2f", r, c.minRec)
			}
			if c.maxFP >= 0 && s.fp() > c.maxFP {
				t.Errorf("false positives = %d, want <= %d", s.fp(), c.maxFP)
			}
		})
	}
}

// TestQualityPIB reports row-level precision and recall on the prompt
// injection benchmark's PII cases. Many of its positives are names,
// addresses or spelled-out numbers this package does not claim to find,
// so there is no threshold; the numbers go to the log.
func TestQualityPIB(t *testing.T) {
	rows := readRows(t, "pii/pib_pii.jsonl")
	d := New(Options{})
	var tp, fp, fn, tn int
	for _, r := range rows {
		found := len(detect(d, r.Text)) > 0
		switch {
		case found && r.Label == 1:
			tp++
		case found:
			fp++
			if testing.Verbose() {
				t.Logf("finding in a row labelled 0: %s", r.ID)
			}
		case r.Label == 1:
			fn++
		default:
			tn++
		}
	}
	t.Logf("pib_pii rows: tp %d fp %d fn %d tn %d; precision %.3f recall %.3f FPR %.3f",
		tp, fp, fn, tn, scantest.Ratio(tp, tp+fp), scantest.Ratio(tp, tp+fn), scantest.Ratio(fp, fp+tn))
}

// TestQualityBenignInjectionRows counts findings on the benign rows of
// the injection smoke corpus. Those rows are prose with a
// "Reference …. Trace <32 hex>." tail: nothing in that tail is personal
// data, so a finding there fails.
func TestQualityBenignInjectionRows(t *testing.T) {
	rows := readRows(t, "injection/agt_pi_fixture_smoke_v1.jsonl")
	d := New(Options{})
	benign, findings := 0, 0
	for _, r := range rows {
		if r.Label != 0 {
			continue
		}
		benign++
		tail := strings.LastIndex(r.Text, "Reference ")
		for _, m := range detect(d, r.Text) {
			findings++
			if tail >= 0 && m.End > tail {
				t.Errorf("row %s: %s finding [%d,%d) in the reference/trace tail", r.ID, m.Category, m.Start, m.End)
			}
		}
	}
	if benign == 0 {
		t.Fatal("no benign rows: the data set changed")
	}
	t.Logf("agt_pi_fixture_smoke_v1 benign rows: %d, findings: %d", benign, findings)
}
