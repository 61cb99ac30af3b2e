package secret

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/wardenhq/warden/internal/scan"
)

// Name is the detector's name.
const Name = "secret"

// DefaultMaxDecodeDepth bounds nested decoding (base64 inside
// percent-encoding, say) when Options.MaxDecodeDepth is 0.
const DefaultMaxDecodeDepth = 2

// Options configure a Detector.
type Options struct {
	// Rules are the format rules to apply, such as gitleaks' default set
	// (internal/secretrules converts it). The package's own context rules
	// (GeneralRules) run besides them unless DisableGeneral is set.
	Rules []Rule
	// DisableDecoding turns off the scan of decoded base64 and
	// percent-encoded segments.
	DisableDecoding bool
	// DisableGeneral turns off the package's own context rules.
	DisableGeneral bool
	// MaxDecodeDepth bounds nested decoding; 0 means
	// DefaultMaxDecodeDepth.
	MaxDecodeDepth int
}

// Detector finds secrets in text. It is safe for concurrent use and
// keeps no text between calls.
type Detector struct {
	rules       []compiledRule
	ac          *automaton
	patRules    [][]int32 // keyword pattern id → rules it triggers
	always      []int32   // rules without keywords
	nRulePats   int32     // pattern ids at or past it are general triggers
	general     bool
	decodeDepth int
	pool        sync.Pool // *scratch
}

var _ scan.Detector = (*Detector)(nil)

type compiledRule struct {
	id, category, severity string
	confidence             float64
	generic                bool
	re                     *regexp.Regexp
	group                  int
	entropy                float64
	allow                  []compiledAllowlist
	reach                  reach
}

// New compiles the rules into a Detector. A rule without a regex (a
// gitleaks path-only rule) is skipped; a rule with a bad secret group or
// allowlist is an error wrapping ErrInvalidRule.
func New(opts Options) (*Detector, error) {
	d := &Detector{general: !opts.DisableGeneral, decodeDepth: opts.MaxDecodeDepth}
	if opts.DisableDecoding {
		d.decodeDepth = 0
	} else if d.decodeDepth <= 0 {
		d.decodeDepth = DefaultMaxDecodeDepth
	}
	var pats []string
	patIndex := map[string]int32{}
	seen := map[string]bool{}
	for _, r := range opts.Rules {
		if r.Regex == nil {
			continue
		}
		if r.ID == "" {
			return nil, fmt.Errorf("%w: a rule has no id", ErrInvalidRule)
		}
		if seen[r.ID] {
			return nil, fmt.Errorf("%w %q: duplicate id", ErrInvalidRule, r.ID)
		}
		if d.general && slices.Contains(GeneralRules(), r.ID) {
			return nil, fmt.Errorf("%w %q: the id of one of the package's own rules", ErrInvalidRule, r.ID)
		}
		seen[r.ID] = true
		if r.SecretGroup < 0 || r.SecretGroup > r.Regex.NumSubexp() {
			return nil, fmt.Errorf("%w %q: secret group %d of a regex with %d groups", ErrInvalidRule, r.ID, r.SecretGroup, r.Regex.NumSubexp())
		}
		sev := r.Severity
		if sev == "" {
			sev = scan.High
		}
		if scan.SeverityRank(sev) == 0 {
			return nil, fmt.Errorf("%w %q: severity %q", ErrInvalidRule, r.ID, sev)
		}
		conf := r.Confidence
		if conf == 0 {
			conf = DefaultConfidence
		}
		if conf < 0 || conf > 1 {
			return nil, fmt.Errorf("%w %q: confidence %v", ErrInvalidRule, r.ID, conf)
		}
		cr := compiledRule{
			id: r.ID, category: scan.SecretPrefix + r.ID, severity: sev, confidence: conf, generic: r.Generic,
			re: r.Regex, group: r.SecretGroup, entropy: r.Entropy,
			reach: analyze(r.Regex.String(), r.Keywords),
		}
		for i, a := range r.Allowlists {
			ca, err := compileAllowlist(a)
			if err != nil {
				return nil, fmt.Errorf("%w %q: allowlist %d: %v", ErrInvalidRule, r.ID, i, err)
			}
			cr.allow = append(cr.allow, ca)
		}
		idx := int32(len(d.rules))
		d.rules = append(d.rules, cr)
		kws := 0
		for _, k := range r.Keywords {
			k = strings.ToLower(k)
			if k == "" {
				continue
			}
			kws++
			p, ok := patIndex[k]
			if !ok {
				p = int32(len(pats))
				patIndex[k] = p
				pats = append(pats, k)
				d.patRules = append(d.patRules, nil)
			}
			if !slices.Contains(d.patRules[p], idx) {
				d.patRules[p] = append(d.patRules[p], idx)
			}
		}
		if kws == 0 {
			d.rules[idx].reach = reach{}
			d.always = append(d.always, idx)
		}
	}
	d.nRulePats = int32(len(pats))
	if d.general {
		pats = append(pats, generalTriggers...)
	}
	d.ac = newAutomaton(pats)
	d.pool.New = func() any { return &scratch{state: make([]ruleState, len(d.rules))} }
	return d, nil
}

// Name reports "secret".
func (d *Detector) Name() string { return Name }

// window is a span of the text a windowed rule runs on.
type window struct{ start, end int }

// ruleState is one rule's work in one pass.
type ruleState struct {
	on     bool // triggered
	full   bool // run over the whole text
	wins   []window
	starts []int // planLed: where its keywords start
}

// cand is a match before the final filter.
type cand struct {
	m       scan.Match
	generic bool
}

// scratch is one call's reusable memory.
type scratch struct {
	hits    []hit
	state   []ruleState
	touched []int32
	cands   []cand
	loc     []int
}

// Detect appends the secrets found in in.Text to out.
func (d *Detector) Detect(in scan.Input, out []scan.Match) []scan.Match {
	if in.Text == "" {
		return out
	}
	sc := d.pool.Get().(*scratch)
	defer d.pool.Put(sc)
	sc.cands = sc.cands[:0]
	d.detect(in.Text, sc, 0, nil)
	if d.general && in.Key != "" && !in.InKey {
		memberAssignment(in.Key, in.Text, sc)
	}
	return finish(sc.cands, out)
}

// detect appends to sc.cands the candidates in text. At depth > 0, text
// is a piece built around decoded segments, and only the ranges in
// decodedRanges are searched for further encoded segments.
func (d *Detector) detect(text string, sc *scratch, depth int, decodedRanges []window) {
	sc.hits = d.ac.scan(text, sc.hits[:0])
	d.runRules(text, sc)
	if d.general {
		d.runGeneral(text, sc)
	}
	if depth < d.decodeDepth {
		d.runDecoded(text, sc, depth, decodedRanges)
	}
}

// finish filters the candidates and appends them to out: a generic
// candidate inside a specific one's span gives way to it, and of
// candidates with the same span the most confident (then most severe)
// stays.
func finish(cands []cand, out []scan.Match) []scan.Match {
	if len(cands) == 0 {
		return out
	}
	slices.SortStableFunc(cands, func(a, b cand) int {
		if a.m.Start != b.m.Start {
			return a.m.Start - b.m.Start
		}
		if a.m.End != b.m.End {
			return b.m.End - a.m.End
		}
		if a.generic != b.generic {
			if a.generic {
				return 1
			}
			return -1
		}
		if a.m.Confidence != b.m.Confidence {
			if a.m.Confidence > b.m.Confidence {
				return -1
			}
			return 1
		}
		return scan.SeverityRank(b.m.Severity) - scan.SeverityRank(a.m.Severity)
	})
	// Sorted by start, then longest first: a span that contains a later
	// one starts at or before it. Track the furthest-reaching specific
	// span so far.
	specEnd := -1
	for i, c := range cands {
		if i > 0 && c.m.Start == cands[i-1].m.Start && c.m.End == cands[i-1].m.End {
			continue
		}
		if c.generic && c.m.End <= specEnd {
			continue
		}
		if !c.generic {
			specEnd = max(specEnd, c.m.End)
		}
		out = append(out, c.m)
	}
	return out
}
