package inject

import (
	"strings"

	"github.com/wardenhq/warden/internal/scan"
)

// Options configure a Detector.
type Options struct {
	// MinSeverity drops matches below it; empty means low (every match
	// at or above ThresholdLow).
	MinSeverity string
	// MaxDecodeDepth bounds nested decoding (base64 inside URL escapes
	// inside ...); 0 means DefaultMaxDecodeDepth, negative disables
	// decoding.
	MaxDecodeDepth int
}

// DefaultMaxDecodeDepth is the default nesting of decoded payloads.
const DefaultMaxDecodeDepth = 2

// Detector finds prompt injection and jailbreaks; see the package doc.
type Detector struct {
	rules    *ruleSet
	min      int
	maxDepth int
	// exhaustive tries every rule wherever it starts, skipping the
	// needed-word test: for tests that prove the test changes nothing.
	exhaustive bool
}

var _ scan.Detector = (*Detector)(nil)

// New returns a Detector. An unknown MinSeverity counts as low.
func New(opts Options) *Detector {
	d := &Detector{rules: defaultRules, min: max(1, scan.SeverityRank(strings.ToLower(opts.MinSeverity))), maxDepth: opts.MaxDecodeDepth}
	switch {
	case d.maxDepth == 0:
		d.maxDepth = DefaultMaxDecodeDepth
	case d.maxDepth < 0:
		d.maxDepth = 0
	}
	return d
}

// Name is "inject".
func (d *Detector) Name() string { return "inject" }

// Detect appends the injection and jailbreak matches in in.Text to out:
// at most one per span, Category scan.Injection or scan.Jailbreak, Rule
// the strongest evidence, Confidence the combined score and Severity by
// the thresholds above. Evidence found in a decoded payload is reported
// on the encoded segment with Rule "encoded-payload".
func (d *Detector) Detect(in scan.Input, out []scan.Match) []scan.Match {
	if in.Text == "" {
		return out
	}
	return d.score(in.Text, d.analyze(in.Text, 0), in.Provenance, out)
}
