package pii

import (
	"strings"
	"testing"
)

// withCheckDigit appends the Luhn check digit to body, computed here
// independently of luhn: the digit that makes the weighted sum a
// multiple of ten, doubling every second digit from the right of the
// finished number.
func withCheckDigit(body string) string {
	sum := 0
	for i := 0; i < len(body); i++ {
		d := int(body[len(body)-1-i] - '0')
		if i%2 == 0 { // doubled once the check digit is appended
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return body + string(rune('0'+(10-sum%10)%10))
}

// offByOne changes the last digit of a number.
func offByOne(n string) string {
	last := n[len(n)-1]
	return n[:len(n)-1] + string(rune('0'+(last-'0'+1)%10))
}

func TestLuhn(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{name: "textbook example", in: "79927398713", want: true},
		{name: "textbook example, last digit off", in: "79927398710", want: false},
		{name: "transposed digits", in: "79927398731", want: false},
		{name: "computed check digit", in: withCheckDigit("453201582347890"), want: true},
		{name: "computed, off by one", in: offByOne(withCheckDigit("453201582347890")), want: false},
		{name: "zeros", in: "0000000000000000", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := luhn([]byte(tt.in)); got != tt.want {
				t.Errorf("luhn(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidCardNumber(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{name: "visa 16", in: withCheckDigit("453201582347890"), want: true},
		{name: "visa 13", in: withCheckDigit("422222222222"), want: true},
		{name: "visa 19", in: withCheckDigit("406455764676643670"), want: true},
		{name: "visa 15 is no visa length", in: withCheckDigit("45320158234789"), want: false},
		{name: "mastercard 51", in: withCheckDigit("512345678901234"), want: true},
		{name: "mastercard 2-series low", in: withCheckDigit("222100000000001"), want: true},
		{name: "mastercard 2-series high", in: withCheckDigit("272099999999999"), want: true},
		{name: "below 2-series", in: withCheckDigit("222099999999999"), want: false},
		{name: "above 2-series", in: withCheckDigit("272100000000000"), want: false},
		{name: "amex 34", in: withCheckDigit("34000000000000"), want: true},
		{name: "amex 37 spaced 4-6-5", in: spaced(withCheckDigit("37828224631000"), 4, 6), want: true},
		{name: "amex 16 digits", in: withCheckDigit("378282246310005"), want: false},
		{name: "discover 6011", in: withCheckDigit("601155089603314"), want: true},
		{name: "discover 65", in: withCheckDigit("652537005080519"), want: true},
		{name: "diners 14", in: withCheckDigit("3005924668301"), want: true},
		{name: "jcb", in: withCheckDigit("353011133330000"), want: true},
		{name: "jcb below range", in: withCheckDigit("352711133330000"), want: false},
		{name: "unionpay 17", in: withCheckDigit("6212345678901234"), want: true},
		{name: "maestro 12", in: withCheckDigit("50386729711"), want: true},
		{name: "mir", in: withCheckDigit("220012345678901"), want: true},
		{name: "unknown issuer 7", in: withCheckDigit("712345678901234"), want: false},
		{name: "unknown issuer 1", in: withCheckDigit("112345678901234"), want: false},
		{name: "hyphens", in: "4532-0158-2347-" + withCheckDigit("453201582347890")[12:], want: true},
		{name: "luhn off by one", in: offByOne(withCheckDigit("453201582347890")), want: false},
		{name: "too short", in: withCheckDigit("4532015823"), want: false},
		{name: "too long", in: withCheckDigit("4532015823478901234"), want: false},
		{name: "letters", in: "4532a158234789012", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidCardNumber(tt.in); got != tt.want {
				t.Errorf("ValidCardNumber(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// spaced inserts a space after the given group sizes.
func spaced(s string, sizes ...int) string {
	var b strings.Builder
	for _, n := range sizes {
		b.WriteString(s[:n])
		b.WriteByte(' ')
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}

func TestDetectCards(t *testing.T) {
	visa := withCheckDigit("453201582347890")
	short := withCheckDigit("50386729711") // 12-digit Maestro
	tests := []struct {
		name string
		text string
		want []string // values found, in order
	}{
		{name: "bare", text: "number " + visa + " on file", want: []string{visa}},
		{name: "spaced", text: "pay with " + spaced(visa, 4, 4, 4) + ".", want: []string{spaced(visa, 4, 4, 4)}},
		{name: "hyphenated", text: "(" + strings.Join([]string{visa[:4], visa[4:8], visa[8:12], visa[12:]}, "-") + ")",
			want: []string{strings.Join([]string{visa[:4], visa[4:8], visa[8:12], visa[12:]}, "-")}},
		{name: "luhn off by one", text: "card " + offByOne(visa), want: nil},
		{name: "twelve digits need a card word", text: "account " + short + " ok", want: nil},
		{name: "twelve digits with a card word", text: "my maestro card " + short, want: []string{short}},
		{name: "inside a longer number", text: "id 9" + visa + "1", want: nil},
		{name: "inside a token", text: "ref ORD-" + visa, want: nil},
		{name: "mixed separators", text: "card " + visa[:4] + " " + visa[4:8] + "-" + visa[8:12] + " " + visa[12:], want: nil},
		{name: "odd grouping", text: "card " + spaced(visa, 3, 5, 4), want: nil},
		{name: "published test number", text: "card 4242 4242 4242 4242", want: nil},
		{name: "nineteen digits need a card word", text: "value " + withCheckDigit("406455764676643670"), want: nil},
		{name: "repeated digits need a card word", text: "hex " + withCheckDigit("434000000000000"), want: nil},
		{name: "followed by a year", text: "card " + spaced(visa, 4, 4, 4) + " 2027", want: []string{spaced(visa, 4, 4, 4)}},
	}
	d := New(Options{Types: []string{CreditCard}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := values(d, tt.text)
			if !equal(got, tt.want) {
				t.Errorf("Detect(%q) = %q, want %q", tt.text, got, tt.want)
			}
			for _, m := range detect(d, tt.text) {
				if m.Category != CategoryCreditCard || m.Rule != RuleCreditCard || m.Severity != "high" {
					t.Errorf("Detect(%q) = %+v, want category %s, rule %s, severity high", tt.text, m, CategoryCreditCard, RuleCreditCard)
				}
			}
		})
	}
}

func TestCardContextRaisesConfidence(t *testing.T) {
	visa := withCheckDigit("453201582347890")
	d := New(Options{})
	plain := detect(d, "ref "+visa)
	named := detect(d, "credit card "+visa)
	if len(plain) != 1 || len(named) != 1 {
		t.Fatalf("Detect found %d and %d cards, want 1 and 1", len(plain), len(named))
	}
	if named[0].Confidence <= plain[0].Confidence {
		t.Errorf("confidence with a card word = %v, without = %v; want higher with", named[0].Confidence, plain[0].Confidence)
	}
}
