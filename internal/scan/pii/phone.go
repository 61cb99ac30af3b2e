package pii

import (
	"github.com/nyaruka/phonenumbers"
	"github.com/wardenhq/warden/internal/scan"
)

// Phone number shapes: E.164 allows 15 digits; national numbers of fewer
// than 7 digits are local extensions or short codes.
const (
	minPhone       = 7
	maxPhone       = 15
	maxPhoneGroups = 7
	// maxContextPhone bounds the digits of a number that no plan confirms:
	// national numbers are rarely longer.
	maxContextPhone = 13
	maxExtension    = 6
	// minPlainNSN is the shortest national number reported on its plan
	// and grouping alone; shorter valid numbers (seven-digit locals,
	// service codes) read too often as ranges and counts.
	minPlainNSN = 8
)

// Confidence of a phone number by what confirmed it.
const (
	confPhoneContext   = 0.9  // a plan and a phone word
	confPhoneIntl      = 0.75 // "+CC" and the plan of CC
	confPhoneNational  = 0.6  // formatted, and the default region's plan
	confPhoneUnchecked = 0.4  // phone-shaped, next to a phone word
)

// phonesInCluster appends the phone numbers among c's free groups and
// returns how far the last reached.
func (d *Detector) phonesInCluster(c *cluster, out []scan.Match) ([]scan.Match, int) {
	reach := 0
	for a := 0; a < c.n; a++ {
		if c.used[a] || (a > 0 && c.sep(a) != " ") {
			continue
		}
		// Longest first, so "+1 415 555 2671" is not read as "415 555 2671".
		for b := min(c.n-1, a+maxPhoneGroups-1); b >= a; b-- {
			if !c.free(a, b) {
				continue
			}
			sh, ok := shapePhone(c, a, b)
			if !ok {
				continue
			}
			end := sh.end
			if b == c.n-1 {
				end = extensionAt(c.text, sh.end)
				if end == sh.end && !phoneRightClean(c.text, end) {
					continue
				}
			}
			rule, conf := d.checkPhone(c, a, b, sh, end)
			if conf == 0 {
				continue
			}
			out = append(out, match(CategoryPhone, rule, conf, sh.start, end))
			c.take(a, b)
			reach = end
			a = b
			break
		}
	}
	return out, reach
}

// checkPhone validates a phone-shaped candidate and grades it; conf 0
// means it is not reported.
func (d *Detector) checkPhone(c *cluster, a, b int, sh phoneShape, end int) (rule string, conf float64) {
	ctx := near(c.text, sh.start, end, phoneWords)
	if !sh.plus && !sh.formatted && ctx == noContext {
		return "", 0 // a bare run of digits is an id until a word says otherwise
	}
	var buf [maxPhone + 1]byte
	p := buf[:0]
	if sh.plus {
		p = append(p, '+')
	}
	for k := a; k <= b; k++ {
		if k != sh.trunk {
			p = c.appendDigits(p, k, k)
		}
	}
	digits := len(p) - boolInt(sh.plus)
	if allSame(p) {
		return "", 0
	}
	if c.parses > 0 {
		c.parses--
		num := &phonenumbers.PhoneNumber{}
		if sh.plus {
			if phonenumbers.ParseToNumber(string(p), "ZZ", num) == nil && phonenumbers.IsValidNumber(num) {
				switch {
				case fictional(num):
					return "", 0
				case ctx > noContext:
					return RulePhone, confPhoneContext
				}
				return RulePhone, confPhoneIntl
			}
		} else if d.validNational(string(p), num) {
			switch {
			case fictional(num):
				return "", 0
			case ctx > noContext:
				return RulePhone, confPhoneContext
			case len(phonenumbers.GetNationalSignificantNumber(num)) >= minPlainNSN && groupedAsPlan(c, a, b, num):
				return RulePhone, confPhoneNational
			}
			return "", 0 // a valid number, but not written like one
		}
	}
	// No plan confirms it: only a phone word can.
	switch {
	case ctx == strongContext:
	case ctx == weakContext && (sh.formatted || sh.plus):
	default:
		return "", 0
	}
	if digits > maxContextPhone+2*boolInt(sh.plus) || fictionalLocal(p, d.regions[0]) {
		return "", 0
	}
	return RulePhoneContext, confPhoneUnchecked
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
