package pii

import (
	"strings"
	"testing"
)

func TestDetectPhones(t *testing.T) {
	type found struct{ value, rule string }
	tests := []struct {
		name   string
		region string
		text   string
		want   []found
	}{
		{name: "us parentheses", text: "Call (650) 253-0000 today", want: []found{{"(650) 253-0000", RulePhone}}},
		{name: "us hyphens", text: "at 650-253-0000.", want: []found{{"650-253-0000", RulePhone}}},
		{name: "us dots", text: "650.253.0000", want: []found{{"650.253.0000", RulePhone}}},
		{name: "us spaces", text: "650 253 0000", want: []found{{"650 253 0000", RulePhone}}},
		{name: "us trunk prefix", text: "1-650-253-0000", want: []found{{"1-650-253-0000", RulePhone}}},
		{name: "us extension", text: "(650) 253-0000 ext. 123, ask for Ann", want: []found{{"(650) 253-0000 ext. 123", RulePhone}}},
		{name: "us short extension", text: "650-253-0000x12", want: []found{{"650-253-0000x12", RulePhone}}},
		{name: "bare digits need a word", text: "id 6502530000", want: nil},
		{name: "bare digits with a word", text: "phone 6502530000", want: []found{{"6502530000", RulePhone}}},
		{name: "label in an identifier", text: `{"mobile_phone": "6502530000"}`, want: []found{{"6502530000", RulePhone}}},
		{name: "weak word in an identifier", text: "WDT_INPROC_CALL = 6502530000", want: nil},
		{name: "label on the line above", text: "Phone:\n650 253 0000", want: []found{{"650 253 0000", RulePhone}}},
		{name: "label of another number", text: "Phone: 650 253 0000\nOrder: 1234 5678", want: []found{{"650 253 0000", RulePhone}}},
		{name: "uk international", text: "+44 20 7946 0958", want: []found{{"+44 20 7946 0958", RulePhone}}},
		{name: "uk mobile unspaced", text: "+447911123456", want: []found{{"+447911123456", RulePhone}}},
		{name: "france", text: "tél +33 1 42 68 53 00", want: []found{{"+33 1 42 68 53 00", RulePhone}}},
		{name: "japan one-digit area", text: "+81 3-1234-5678", want: []found{{"+81 3-1234-5678", RulePhone}}},
		{name: "swiss trunk in parentheses", text: "+41 (0)44 668 18 00", want: []found{{"+41 (0)44 668 18 00", RulePhone}}},
		{name: "uk national in the us plan", text: "020 7946 0958", want: nil},
		{name: "uk national in the us plan, labelled", text: "Tel: 020 7946 0958", want: []found{{"020 7946 0958", RulePhoneContext}}},
		{name: "uk national in the uk plan", region: "GB", text: "020 7946 0958", want: []found{{"020 7946 0958", RulePhone}}},
		{name: "us number in the uk plan", region: "GB", text: "650-253-0000", want: nil},
		{name: "invalid area code", text: "(555) 123-4567", want: nil},
		{name: "invalid area code, labelled", text: "call (555) 123-4567", want: []found{{"(555) 123-4567", RulePhoneContext}}},
		{name: "invalid country number", text: "+1 555 123 4567", want: nil},
		{name: "fictional range", text: "phone (201) 555-0123", want: nil},
		{name: "fictional seven digits", text: "phone 555-0199", want: nil},
		{name: "table row", text: "12 34 56 78 90", want: nil},
		{name: "table of counts", text: "proc3 22 747 7259760 1383711", want: nil},
		{name: "iso date", text: "phone log 2024-01-15", want: nil},
		{name: "dotted date", text: "phone log 15.01.2024", want: nil},
		{name: "thousands", text: "phone bill 1.234.567", want: nil},
		{name: "decimal", text: "phone 3.14159265", want: nil},
		{name: "ssn shape", text: "phone 123-45-6780", want: nil},
		{name: "one digit repeated", text: "phone 000 000 0000", want: nil},
		{name: "hyphenated label after", text: "0161 496 0000-Office", region: "GB", want: []found{{"0161 496 0000", RulePhone}}},
		{name: "inside a token", text: "ref AB-650-253-0000", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := New(Options{DefaultRegion: tt.region, Types: []string{Phone}})
			var got []found
			for _, m := range detect(d, tt.text) {
				got = append(got, found{tt.text[m.Start:m.End], m.Rule})
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Detect(%q) = %v, want %v", tt.text, got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("Detect(%q)[%d] = %v, want %v", tt.text, i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestPhoneConfidence(t *testing.T) {
	d := New(Options{})
	conf := func(text string) float64 {
		ms := detect(d, text)
		if len(ms) != 1 {
			t.Fatalf("Detect(%q) found %d, want 1", text, len(ms))
		}
		return ms[0].Confidence
	}
	plain, labelled, unchecked := conf("at 650-253-0000"), conf("phone 650-253-0000"), conf("phone 020 7946 0958")
	if !(labelled > plain && plain > unchecked) {
		t.Errorf("confidence labelled %v, plain %v, unchecked %v: want labelled > plain > unchecked", labelled, plain, unchecked)
	}
}

func TestExtraRegions(t *testing.T) {
	text := "020 7946 0958"
	if got := values(New(Options{}), text); len(got) != 0 {
		t.Errorf("Detect(US only, %q) = %q, want none", text, got)
	}
	if got := values(New(Options{Regions: []string{"GB"}}), text); !equal(got, []string{text}) {
		t.Errorf("Detect(US+GB, %q) = %q, want [%q]", text, got, text)
	}
}

// TestParseBudget fills a text with phone-shaped numbers past the parse
// budget: the numbers the budget leaves unparsed are still reported when
// a phone word labels them, and the rest not at all.
func TestParseBudget(t *testing.T) {
	var b strings.Builder
	for range parseBudget(0) + 10 {
		b.WriteString("x 650-253-0000, ")
	}
	b.WriteString("\nphone 650-253-0001")
	text := b.String()
	ms := detect(New(Options{}), text)
	budget := parseBudget(len(text))
	if len(ms) != budget+1 {
		t.Fatalf("Detect found %d numbers, want %d parsed and 1 labelled", len(ms), budget)
	}
	last := ms[len(ms)-1]
	if last.Rule != RulePhoneContext || text[last.Start:last.End] != "650-253-0001" {
		t.Errorf("last finding = %s %q, want %s %q", last.Rule, text[last.Start:last.End], RulePhoneContext, "650-253-0001")
	}
}
