package pii

import "testing"

func TestValidSSN(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"123-45-6780", true},
		{"123 45 6780", true},
		{"123456780", true},
		{"772-18-0042", true}, // issued since 2011's randomization
		{"899-99-9998", true},
		{"000-12-3456", false},
		{"666-12-3456", false},
		{"900-12-3456", false},
		{"987-65-4320", false}, // 9xx: ITINs and advertising
		{"123-00-4567", false},
		{"123-45-0000", false},
		{"078-05-1120", false}, // the Woolworth wallet card
		{"219-09-9999", false},
		{"123-45-6789", false},
		{"111-11-1111", false},
		{"123-45-678", false},
		{"123-456-789", false},
		{"123-45 6780", false},
		{"12a-45-6780", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ValidSSN(tt.in); got != tt.want {
				t.Errorf("ValidSSN(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestDetectSSNs(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{name: "dashed", text: "on file: 123-45-6780.", want: []string{"123-45-6780"}},
		{name: "dashed with a word", text: "SSN: 123-45-6780", want: []string{"123-45-6780"}},
		{name: "spaced needs a word", text: "code 123 45 6780", want: nil},
		{name: "spaced with a word", text: "social security number 123 45 6780", want: []string{"123 45 6780"}},
		{name: "bare needs a word", text: "order 123456780 shipped", want: nil},
		{name: "bare with a word", text: "SSN 123456780", want: []string{"123456780"}},
		{name: "bare in an identifier label", text: `{"user_ssn": "123456780"}`, want: []string{"123456780"}},
		{name: "area 666", text: "SSN: 666-45-6780", want: nil},
		{name: "area 000", text: "SSN: 000-45-6780", want: nil},
		{name: "area 9xx", text: "SSN: 912-45-6780", want: nil},
		{name: "placeholder", text: "e.g. 000-00-0000", want: nil},
		{name: "inside a longer run", text: "part 2023-123-45-6780", want: nil},
		{name: "followed by a token", text: "123-45-6780-A", want: nil},
		{name: "a phone shape", text: "SSN 123-456-7890", want: nil},
	}
	d := New(Options{Types: []string{USSSN}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := values(d, tt.text); !equal(got, tt.want) {
				t.Errorf("Detect(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestSSNContextRaisesConfidence(t *testing.T) {
	d := New(Options{})
	plain := detect(d, "ref 123-45-6780")
	named := detect(d, "SSN 123-45-6780")
	if len(plain) != 1 || len(named) != 1 {
		t.Fatalf("Detect found %d and %d, want 1 and 1", len(plain), len(named))
	}
	if named[0].Confidence <= plain[0].Confidence {
		t.Errorf("confidence with SSN = %v, without = %v; want higher with", named[0].Confidence, plain[0].Confidence)
	}
}
