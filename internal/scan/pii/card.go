package pii

import "github.com/wardenhq/warden/internal/scan"

// Card number lengths: ISO/IEC 7812 allows up to 19 digits; no network
// issues fewer than 12.
const (
	minPAN = 12
	maxPAN = 19
)

// An issuer range: numbers whose first len(lo) digits lie in lo..hi
// (compared as strings of equal length), with the lengths the network
// issues, as a bit set over 0..19.
type issuer struct {
	lo, hi  string
	lengths uint32
}

func lens(ns ...int) uint32 {
	var m uint32
	for _, n := range ns {
		m |= 1 << n
	}
	return m
}

var (
	len14to19 = lens(14, 15, 16, 17, 18, 19)
	len16to19 = lens(16, 17, 18, 19)
	len12to19 = lens(12, 13, 14, 15, 16, 17, 18, 19)
)

// issuers are the published IIN ranges of the card networks.
var issuers = []issuer{
	{"4", "4", lens(13, 16, 19)},    // Visa
	{"51", "55", lens(16)},          // Mastercard
	{"2221", "2720", lens(16)},      // Mastercard 2-series
	{"34", "34", lens(15)},          // American Express
	{"37", "37", lens(15)},          // American Express
	{"6011", "6011", len16to19},     // Discover
	{"644", "649", len16to19},       // Discover
	{"65", "65", len16to19},         // Discover, RuPay
	{"622126", "622925", len16to19}, // Discover co-branded UnionPay
	{"62", "62", len16to19},         // UnionPay
	{"300", "305", len14to19},       // Diners Club
	{"3095", "3095", len14to19},
	{"36", "36", len14to19},
	{"38", "39", len14to19},
	{"3528", "3589", len16to19},            // JCB
	{"1800", "1800", lens(15)},             // JCB, older 15-digit numbers
	{"2131", "2131", lens(15)},             // JCB, older 15-digit numbers
	{"2200", "2204", len16to19},            // Mir
	{"50", "50", len12to19},                // Maestro
	{"56", "58", len12to19},                // Maestro
	{"6304", "6304", len12to19},            // Maestro
	{"639", "639", len12to19},              // Maestro, InstaPayment
	{"67", "67", len12to19},                // Maestro (6759, 676x)
	{"60", "60", lens(16)},                 // RuPay
	{"9792", "9792", lens(16)},             // Troy
	{"506099", "506198", lens(16, 18, 19)}, // Verve
	{"650002", "650027", lens(16, 18, 19)}, // Verve
}

// testPANs are the card numbers that payment sandboxes publish for tests;
// no one holds them.
var testPANs = map[string]bool{
	"4242424242424242": true, "4111111111111111": true, "4012888888881881": true,
	"4000056655665556": true, "4222222222222": true, "5555555555554444": true,
	"5105105105105100": true, "2223003122003222": true, "5200828282828210": true,
	"378282246310005": true, "371449635398431": true, "378734493671000": true,
	"6011111111111117": true, "6011000990139424": true, "3056930009020004": true,
	"36227206271667": true, "3566002020360505": true, "6200000000000005": true,
}

// knownIssuer reports whether the digits p have a network's prefix and
// one of its lengths.
func knownIssuer(p []byte) bool {
	for _, is := range issuers {
		if is.lengths&(1<<len(p)) == 0 || len(p) < len(is.lo) {
			continue
		}
		head := string(p[:len(is.lo)])
		if is.lo <= head && head <= is.hi {
			return true
		}
	}
	return false
}

// luhn reports whether the digits p end in a correct Luhn check digit.
func luhn(p []byte) bool {
	sum := 0
	double := false
	for i := len(p) - 1; i >= 0; i-- {
		d := int(p[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// ValidCardNumber reports whether s, digits with optional spaces or
// hyphens, is a card number a network could have issued: a known issuer
// prefix and length and a correct Luhn digit.
func ValidCardNumber(s string) bool {
	var buf [maxPAN]byte
	p := buf[:0]
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isDigit(c):
			if len(p) == maxPAN {
				return false
			}
			p = append(p, c)
		case c == ' ' || c == '-':
		default:
			return false
		}
	}
	return len(p) >= minPAN && knownIssuer(p) && luhn(p)
}

// cardLayout reports whether groups a..b are laid out as printed cards
// are: one run of digits, or one separator (space or hyphen) between
// groups of four with a shorter last group, or 4-6-5 / 4-6-4.
func cardLayout(c *cluster, a, b int) bool {
	if a == b {
		return true
	}
	s, ok := c.uniform(a, b)
	if !ok || (s != " " && s != "-") {
		return false
	}
	if b-a == 2 && c.size(a) == 4 && c.size(a+1) == 6 && (c.size(b) == 5 || c.size(b) == 4) {
		return true
	}
	for k := a; k < b; k++ {
		if c.size(k) != 4 {
			return false
		}
	}
	return c.size(b) <= 4
}

// plainCard reports whether the digits p read as a card without a card
// word nearby: 15 or 16 digits (the lengths nearly every card has), or 14
// to 19 printed in groups; and not a run of one digit ("4340000000000001",
// a hex constant) that an issued number would hardly hold.
func plainCard(p []byte, grouped bool) bool {
	switch n := len(p); {
	case n == 15 || n == 16:
	case n >= 14 && grouped:
	default:
		return false
	}
	run := 1
	for k := 1; k < len(p); k++ {
		if p[k] == p[k-1] {
			if run++; run >= 8 {
				return false
			}
		} else {
			run = 1
		}
	}
	return true
}

// cardsInCluster appends the card numbers among c's free groups.
func cardsInCluster(c *cluster, out []scan.Match) []scan.Match {
	var buf [maxPAN]byte
	for a := 0; a < c.n; a++ {
		if c.used[a] || c.size(a) > maxPAN {
			continue
		}
		// Longest first: a 19-digit number is not read as its 16-digit head.
		last := a
		for n := c.size(a); last+1 < c.n && !c.used[last+1] && n+c.size(last+1) <= maxPAN; last++ {
			n += c.size(last + 1)
		}
		for b := last; b >= a; b-- {
			n := c.digits(a, b)
			if n < minPAN || !c.bounded(a, b) || !cardLayout(c, a, b) {
				continue
			}
			p := c.appendDigits(buf[:0], a, b)
			if !knownIssuer(p) || !luhn(p) || testPANs[string(p)] {
				continue
			}
			start, end := c.g[a].start, c.g[b].end
			ctx := near(c.text, start, end, cardWords) > noContext
			if !ctx && !plainCard(p, a < b) {
				continue
			}
			conf := 0.8
			switch {
			case ctx:
				conf = 0.95
			case a == b:
				conf = 0.7 // an unbroken run of digits could be an id
			}
			out = append(out, match(CategoryCreditCard, RuleCreditCard, conf, start, end))
			c.take(a, b)
			a = b
			break
		}
	}
	return out
}
