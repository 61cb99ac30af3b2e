package pii

import (
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// validNational parses a number written without a country code in each
// of the detector's regions whose plan allows its length, and reports
// whether one confirms it.
func (d *Detector) validNational(s string, num *phonenumbers.PhoneNumber) bool {
	for i, r := range d.regions {
		if !d.plans[i].fits(s) {
			continue
		}
		if phonenumbers.ParseToNumber(s, r, num) == nil && phonenumbers.IsValidNumber(num) {
			return true
		}
	}
	return false
}

// A plan is what a region's metadata says about the length of its
// numbers, to spare a parse that cannot succeed.
type plan struct {
	min, max int    // digits of a national number, prefixes included
	idd      string // the international call prefix, when it is plain digits
}

// fits reports whether the digits s could be a number of the plan.
func (p plan) fits(s string) bool {
	if p.max == 0 {
		return true // no metadata: let the parser decide
	}
	if strings.HasPrefix(s, "00") || (p.idd != "" && strings.HasPrefix(s, p.idd)) {
		return true // dialled abroad: any length
	}
	return p.min <= len(s) && len(s) <= p.max
}

// plans holds the plan of every region, read once from the metadata.
var plans = sync.OnceValue(func() map[string]plan {
	mc, err := phonenumbers.MetadataCollection()
	if err != nil {
		return nil
	}
	m := map[string]plan{}
	for _, md := range mc.GetMetadata() {
		lengths := md.GetGeneralDesc().GetPossibleLength()
		if len(lengths) == 0 {
			continue
		}
		p := plan{min: int(slices.Min(lengths)), max: int(slices.Max(lengths))}
		// A national prefix, a trunk "1", or a prefix the parser strips by
		// pattern (Argentina's mobile "15") may precede the number.
		extra := max(len(md.GetNationalPrefix()), len(strconv.Itoa(int(md.GetCountryCode()))))
		if len(md.GetNationalPrefixForParsing()) > len(md.GetNationalPrefix()) {
			extra = max(extra, 4)
		}
		p.max += extra
		if idd := md.GetInternationalPrefix(); idd != "" && strings.Trim(idd, "0123456789") == "" {
			p.idd = idd
		}
		m[md.GetId()] = p
	}
	return m
})

// groupedAsPlan reports whether the groups a..b break exactly where the
// region's national format of num breaks, counted from the last digit:
// "212 223 2425" and "(212) 223-2425" do; "21 22 23 24 25" and
// "212232 2425" (numbers in a table) do not. Breaks before the national
// number (a trunk prefix "1-") are not compared.
func groupedAsPlan(c *cluster, a, b int, num *phonenumbers.PhoneNumber) bool {
	f := phonenumbers.Format(num, phonenumbers.NATIONAL)
	var plan [maxPhone + 1]bool // plan[i]: a break i digits from the end
	n := 0
	for i := len(f) - 1; i >= 0; i-- {
		switch {
		case isDigit(f[i]):
			n++
		case n > 0 && n < len(plan):
			plan[n] = true
		}
	}
	if n < len(plan) {
		plan[n] = false // punctuation before the first digit: "(650) …"
	}
	var got [maxPhone + 1]bool
	at := 0
	for k := b; k > a; k-- {
		at += c.size(k)
		if at < n {
			got[at] = true
		}
	}
	return got == plan
}

// fictional reports the NANP numbers reserved for fiction, NXX-555-01XX.
func fictional(num *phonenumbers.PhoneNumber) bool {
	if num.GetCountryCode() != 1 {
		return false
	}
	n := num.GetNationalNumber()
	return (n/10000)%1000 == 555 && (n%10000)/100 == 1
}

// allSame reports whether every digit of p is the same ("000 000 0000").
func allSame(p []byte) bool {
	if len(p) > 0 && p[0] == '+' {
		p = p[1:]
	}
	for _, c := range p {
		if c != p[0] {
			return false
		}
	}
	return true
}

// fictionalLocal reports a seven-digit 555-01XX number written without
// its area code, in a region of the NANP.
func fictionalLocal(p []byte, region string) bool {
	return len(p) == 7 && string(p[:5]) == "55501" && phonenumbers.IsNANPACountry(region)
}
