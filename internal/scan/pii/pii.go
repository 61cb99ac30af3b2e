package pii

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"github.com/wardenhq/warden/internal/scan"
)

// Types of personal data; a finding's category is scan.PIIPrefix + type.
const (
	Email      = "email"
	Phone      = "phone"
	CreditCard = "credit_card"
	USSSN      = "us_ssn"
	IBAN       = "iban"
	IPAddress  = "ip_address"
)

// Categories of the findings, one per type.
const (
	CategoryEmail      = scan.PIIPrefix + Email
	CategoryPhone      = scan.PIIPrefix + Phone
	CategoryCreditCard = scan.PIIPrefix + CreditCard
	CategoryUSSSN      = scan.PIIPrefix + USSSN
	CategoryIBAN       = scan.PIIPrefix + IBAN
	CategoryIPAddress  = scan.PIIPrefix + IPAddress
)

// Rules: what confirmed a finding.
const (
	RuleEmail        = "email"
	RulePhone        = "phone"         // confirmed by a region's numbering plan
	RulePhoneContext = "phone-context" // phone-shaped, next to a phone word
	RuleCreditCard   = "credit-card-luhn"
	RuleUSSSN        = "us-ssn"
	RuleIBAN         = "iban-mod97"
	RuleIPv4         = "ipv4"
	RuleIPv6         = "ipv6"
)

// DefaultRegion is the region national phone numbers are read in when
// Options.DefaultRegion is empty.
const DefaultRegion = "US"

var allTypes = []string{Email, Phone, CreditCard, USSSN, IBAN, IPAddress}

// AllTypes returns every type the detector knows, in a stable order.
func AllTypes() []string { return slices.Clone(allTypes) }

// Errors of Options.Validate.
var (
	ErrUnknownRegion = errors.New("unknown phone region")
	ErrUnknownType   = errors.New("unknown pii type")
)

// Options configure a Detector. The zero value finds every type and reads
// national phone numbers as US numbers.
type Options struct {
	// DefaultRegion is the ISO 3166-1 alpha-2 region whose numbering plan
	// validates phone numbers written without a "+" country code; empty
	// means DefaultRegion.
	DefaultRegion string
	// Regions are further regions a national number may belong to (a
	// deployment in Europe might list "GB", "DE", "FR"). Each costs a
	// parse per phone-shaped candidate that the default region rejects.
	Regions []string
	// Types limits the detector to these types; empty means AllTypes().
	Types []string
}

// Validate reports the first unknown region or type.
func (o Options) Validate() error {
	supported := phonenumbers.GetSupportedRegions()
	for _, r := range append([]string{o.DefaultRegion}, o.Regions...) {
		if r != "" && !supported[strings.ToUpper(r)] {
			return fmt.Errorf("pii options: region %q: %w", r, ErrUnknownRegion)
		}
	}
	for _, t := range o.Types {
		if !slices.Contains(allTypes, t) {
			return fmt.Errorf("pii options: type %q: %w", t, ErrUnknownType)
		}
	}
	return nil
}

// Detector finds validated personal data. It is immutable after New and
// safe for concurrent use.
type Detector struct {
	regions []string // default region first
	plans   []plan   // of each region
	// the types to find
	email, phone, card, ssn, iban, ip bool
}

var _ scan.Detector = (*Detector)(nil)

// New returns a Detector for opts. It panics if opts does not Validate:
// a detector that silently read numbers in the wrong plan would miss them.
func New(opts Options) *Detector {
	if err := opts.Validate(); err != nil {
		panic(err)
	}
	d := &Detector{}
	def := strings.ToUpper(opts.DefaultRegion)
	if def == "" {
		def = DefaultRegion
	}
	d.regions = append(d.regions, def)
	for _, r := range opts.Regions {
		if r = strings.ToUpper(r); !slices.Contains(d.regions, r) {
			d.regions = append(d.regions, r)
		}
	}
	for _, r := range d.regions {
		d.plans = append(d.plans, plans()[r])
	}
	types := opts.Types
	if len(types) == 0 {
		types = allTypes
	}
	for _, t := range types {
		switch t {
		case Email:
			d.email = true
		case Phone:
			d.phone = true
		case CreditCard:
			d.card = true
		case USSSN:
			d.ssn = true
		case IBAN:
			d.iban = true
		case IPAddress:
			d.ip = true
		}
	}
	return d
}

// Name returns "pii".
func (d *Detector) Name() string { return "pii" }

// Detect appends the personal data found in in.Text to out. Where two
// findings overlap, the more specific one wins (an IBAN over the card-like
// digits inside it, a card over a phone reading of the same digits).
func (d *Detector) Detect(in scan.Input, out []scan.Match) []scan.Match {
	text := in.Text
	base := len(out)
	if d.email {
		out = findEmails(text, out)
	}
	if d.phone || d.card || d.ssn || d.iban || d.ip {
		out = d.findNumbers(text, out)
	}
	if d.ip {
		out = findIPv6(text, out)
	}
	return resolve(text, out, base)
}

// priority orders categories when findings overlap: higher wins.
func priority(category string) int {
	switch category {
	case CategoryIBAN:
		return 6
	case CategoryEmail:
		return 5
	case CategoryCreditCard:
		return 4
	case CategoryUSSSN:
		return 3
	case CategoryIPAddress:
		return 2
	}
	return 1
}

// resolve sorts out[base:] by position, keeps no two overlapping findings
// (the higher priority wins, then the longer), and moves an end that
// falls inside a broken UTF-8 sequence past it.
func resolve(text string, out []scan.Match, base int) []scan.Match {
	ms := out[base:]
	for i := range ms {
		for ms[i].End < len(text) && !utf8.RuneStart(text[ms[i].End]) {
			ms[i].End++
		}
	}
	if len(ms) < 2 {
		return out
	}
	slices.SortFunc(ms, func(a, b scan.Match) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return b.End - a.End
	})
	// The kept findings are disjoint and sorted, so only the last one can
	// overlap the next candidate.
	keep := ms[:0]
	for _, m := range ms {
		if n := len(keep); n > 0 && keep[n-1].End > m.Start {
			if !wins(keep[n-1], m) {
				keep[n-1] = m
			}
			continue
		}
		keep = append(keep, m)
	}
	return out[:base+len(keep)]
}

// wins reports whether a is kept over the overlapping b.
func wins(a, b scan.Match) bool {
	pa, pb := priority(a.Category), priority(b.Category)
	if pa != pb {
		return pa > pb
	}
	return a.End-a.Start >= b.End-b.Start
}

// match builds a finding.
func match(category, rule string, conf float64, start, end int) scan.Match {
	sev := scan.Low
	switch category {
	case CategoryCreditCard, CategoryUSSSN, CategoryIBAN:
		sev = scan.High
	}
	return scan.Match{Category: category, Rule: rule, Severity: sev, Confidence: conf, Start: start, End: end}
}

// Byte classes, from a table: the numeric scan reads every byte.
const (
	cDigit = 1 << iota
	cUpper
	cLower
	cHex
)

var class = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = cDigit | cHex
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = cUpper
		t[c+'a'-'A'] = cLower
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] |= cHex
		t[c-'a'+'A'] |= cHex
	}
	return t
}()

func isDigit(c byte) bool  { return class[c]&cDigit != 0 }
func isLetter(c byte) bool { return class[c]&(cUpper|cLower) != 0 }
func isAlnum(c byte) bool  { return class[c] != 0 }
func isHex(c byte) bool    { return class[c]&cHex != 0 }

// wordChar is a byte that joins a token: an ASCII letter, digit or "_".
func wordChar(c byte) bool { return isAlnum(c) || c == '_' }

// leftClean reports whether a value may start at pos: it is not the tail
// of a longer token ("ID7", "PI1-B-00000", "1.5").
func leftClean(text string, pos int) bool {
	if pos == 0 {
		return true
	}
	c := text[pos-1]
	if wordChar(c) {
		return false
	}
	if (c == '-' || c == '.' || c == '/' || c == ',') && pos >= 2 && wordChar(text[pos-2]) {
		return false
	}
	return true
}

// rightClean reports whether a value may end at end: what follows does
// not continue it ("4111…1111x", "1.2.3.4.5", "12-34-abc").
func rightClean(text string, end int) bool {
	if end >= len(text) {
		return true
	}
	c := text[end]
	if wordChar(c) {
		return false
	}
	if (c == '-' || c == '.' || c == '/' || c == ',') && end+1 < len(text) && wordChar(text[end+1]) {
		return false
	}
	return true
}
