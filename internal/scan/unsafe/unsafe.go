package unsafe

import (
	"github.com/wardenhq/warden/internal/scan"
)

// UnsafeInput finds values that would attack what an agent's tool passes
// them to: SQL injection, command injection and reverse shells, path
// traversal and sensitive files, SSRF targets, deserialization gadgets
// and prototype pollution (category scan.UnsafeInput).
//
// It reads scan.Argument and scan.Output text. In an argument every rule
// applies at full severity, bare addresses included. In an output (what a
// tool returned: a page, a file) the same payloads are one step less
// severe, since the agent reads them rather than sends them; internal
// URLs there are at most low (the metadata service medium) and bare
// addresses are not reported, since outputs are mostly prose and logs.
// Tool descriptions are left to ToolPoisoning.
type UnsafeInput struct{}

var _ scan.Detector = (*UnsafeInput)(nil)

// NewUnsafeInput returns the unsafe-input detector.
func NewUnsafeInput() *UnsafeInput { return &UnsafeInput{} }

// Name implements scan.Detector.
func (*UnsafeInput) Name() string { return "unsafe_input" }

// Detect implements scan.Detector.
func (*UnsafeInput) Detect(in scan.Input, out []scan.Match) []scan.Match {
	if in.Provenance == scan.ToolDescription || in.Text == "" {
		return out
	}
	k := sink{text: in.Text, category: scan.UnsafeInput, out: out}
	if in.Provenance == scan.Output {
		k.shift = 1
	}
	s := in.Text
	h := unsafeKeys.m.find(s)
	sqlInjection(&k, s, h)
	commandInjection(&k, s, h)
	pathTraversal(&k, s, h)
	ssrf(&k, s, in.Provenance, h)
	deserialization(&k, s, h)
	prototypePollution(&k, s, in.InKey, h)
	return k.out
}

// unsafeKeys are the anchors of every unsafe-input rule, found in one
// pass.
var unsafeKeys = newKeywordSet(sqlKeywords, commandKeywords, traversalKeywords, pathAnchors, ssrfKeywords, payloadKeywords)
