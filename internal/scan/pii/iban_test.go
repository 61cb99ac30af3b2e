package pii

import (
	"strconv"
	"strings"
	"testing"
)

// withIBANCheck fills the check digits of an IBAN written with "00" in
// their place, by the ISO 7064 rule computed here on big numbers in
// pieces: 98 minus the remainder of the rearranged string.
func withIBANCheck(s string) string {
	rearranged := s[4:] + s[:2] + "00"
	var digits strings.Builder
	for _, c := range rearranged {
		if c >= 'A' && c <= 'Z' {
			digits.WriteString(strconv.Itoa(int(c-'A') + 10))
		} else {
			digits.WriteRune(c)
		}
	}
	rem := 0
	for _, c := range digits.String() {
		rem = (rem*10 + int(c-'0')) % 97
	}
	return s[:2] + strconv.Itoa(98 - rem + 100)[1:] + s[4:]
}

func TestValidIBAN(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{name: "GB printed", in: "GB82 WEST 1234 5698 7654 32", want: true},
		{name: "GB electronic", in: "GB82WEST12345698765432", want: true},
		{name: "lower case", in: "gb82west12345698765432", want: true},
		{name: "DE", in: "DE89 3704 0044 0532 0130 00", want: true},
		{name: "FR with letters in the BBAN", in: "FR14 2004 1010 0505 0001 3M02 606", want: true},
		{name: "NO, shortest", in: "NO93 8601 1117 947", want: true},
		{name: "computed check digits", in: withIBANCheck("CH0000762011623852957"), want: true},
		{name: "computed, last digit changed", in: offByOne(withIBANCheck("CH0000762011623852957")), want: false},
		{name: "wrong check digits", in: "GB83 WEST 1234 5698 7654 32", want: false},
		{name: "GB one short", in: withIBANCheck("GB00WEST1234569876543"), want: false},
		{name: "GB one long", in: withIBANCheck("GB00WEST123456987654321"), want: false},
		{name: "DE one long", in: withIBANCheck("DE003704004405320130001"), want: false},
		{name: "unknown country", in: withIBANCheck("XX0012345678901234"), want: false},
		{name: "mixed case country", in: "Gb82WEST12345698765432", want: false},
		{name: "irregular groups", in: "GB82 WEST12 3456 9876 5432", want: false},
		{name: "double space", in: "GB82  WEST 1234 5698 7654 32", want: false},
		{name: "check digits 00", in: "GB00WEST12345698765432", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidIBAN(tt.in); got != tt.want {
				t.Errorf("ValidIBAN(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// TestIBANLengths checks the registry table for entries outside what ISO
// 13616 allows: two upper-case letters, 15 to 34 characters.
func TestIBANLengths(t *testing.T) {
	if len(ibanLengths) < 80 {
		t.Errorf("ibanLengths has %d countries, want the full registry (80+)", len(ibanLengths))
	}
	for cc, n := range ibanLengths {
		if len(cc) != 2 || strings.ToUpper(cc) != cc || n < 15 || n > maxIBAN {
			t.Errorf("ibanLengths[%q] = %d", cc, n)
		}
	}
}

func TestDetectIBANs(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{name: "printed", text: "IBAN: GB82 WEST 1234 5698 7654 32, BIC WESTGB22", want: []string{"GB82 WEST 1234 5698 7654 32"}},
		{name: "electronic", text: "to DE89370400440532013000.", want: []string{"DE89370400440532013000"}},
		{name: "followed by a group", text: "NO93 8601 1117 947 EUR", want: []string{"NO93 8601 1117 947"}},
		{name: "inside a token", text: "xGB82WEST12345698765432", want: nil},
		{name: "run on", text: "GB82WEST123456987654329", want: nil},
		{name: "bad checksum", text: "GB83WEST12345698765432", want: nil},
	}
	d := New(Options{Types: []string{IBAN}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := values(d, tt.text); !equal(got, tt.want) {
				t.Errorf("Detect(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}
