package inject

import (
	"math"
	"slices"
	"unicode/utf8"

	"github.com/wardenhq/warden/internal/scan"
)

// Severity thresholds on a match's Confidence. A match below
// ThresholdLow is not reported. The operating point for blocking is
// medium: a lone explicit signal ("ignore all previous instructions",
// "<|im_start|>system", "do anything now" with DAN) reaches it, a lone
// weak one ("act as", "from now on", "remember for future sessions")
// does not.
const (
	ThresholdLow      = 0.35
	ThresholdMedium   = 0.60
	ThresholdHigh     = 0.85
	ThresholdCritical = 0.95
)

// The combination is logistic: confidence = σ(bias + w + support), where
// w is the match's own weight (rule weight, plus bonuses, minus context
// such as quotation as an example, plus obfuscation and provenance) and
// support is evidence of other families nearby, each counted once.
const (
	bias         = -3.0 // σ(-3) ≈ 0.05: no evidence, no finding
	obfBoost     = 1.0  // the phrase was obfuscated (homoglyphs, spacing, leet, hidden characters, compacted)
	encodedBoost = 1.0  // the phrase was encoded (base64, hex, escapes, rot13)
	outputBoost  = 1.0  // an instruction to the model inside a tool's output: indirect injection
	toolDesc     = 1.3  // an instruction to the model inside a tool's description: poisoning
	jailOutput   = 0.4  // jailbreak framings in outputs and descriptions are odd, less telling
	supportRate  = 0.6  // share of another family's weight that supports a match
	supportEach  = 3.0  // cap on one family's support
	supportCap   = 3.5  // cap on all support
	nearby       = 400  // bytes within which evidence supports evidence
	maxHits      = 256  // evidence kept per input, earliest first
)

// SeverityOf maps a confidence to a severity: "" below ThresholdLow.
func SeverityOf(conf float64) string {
	switch {
	case conf >= ThresholdCritical:
		return scan.Critical
	case conf >= ThresholdHigh:
		return scan.High
	case conf >= ThresholdMedium:
		return scan.Medium
	case conf >= ThresholdLow:
		return scan.Low
	}
	return ""
}

func provenanceBoost(p scan.Provenance, instr bool) float64 {
	switch {
	case p == scan.Output && instr:
		return outputBoost
	case p == scan.ToolDescription && instr:
		return toolDesc
	case p == scan.Output || p == scan.ToolDescription:
		return jailOutput
	}
	return 0
}

// span returns where a hit's words are for relating it to b: inside the
// payload when both come from the same encoded segment.
func span(a, b *hit) (int, int) {
	if a.encoded && b.encoded && a.start == b.start && a.end == b.end {
		return a.in[0], a.in[1]
	}
	return a.start, a.end
}

func gap(a, b *hit) int {
	as, ae := span(a, b)
	bs, be := span(b, a)
	return max(0, bs-ae, as-be)
}

func overlap(a, b *hit) bool {
	as, ae := span(a, b)
	bs, be := span(b, a)
	return min(ae, be) > max(as, bs)
}

// score combines the evidence into matches appended to out.
func (d *Detector) score(text string, hs []hit, prov scan.Provenance, out []scan.Match) []scan.Match {
	if len(hs) == 0 {
		return out
	}
	for i := range hs {
		h := &hs[i]
		if h.obf {
			h.w += obfBoost
		}
		if h.encoded {
			h.w += encodedBoost
		}
		h.prov = provenanceBoost(prov, h.instr)
		h.w += h.prov
	}
	// One piece of evidence per rule and span: the views overlap.
	slices.SortFunc(hs, func(a, b hit) int {
		if a.start != b.start {
			return a.start - b.start
		}
		if a.end != b.end {
			return a.end - b.end
		}
		if a.name != b.name {
			if a.name < b.name {
				return -1
			}
			return 1
		}
		if a.in != b.in {
			if a.in[0] != b.in[0] {
				return a.in[0] - b.in[0]
			}
			return a.in[1] - b.in[1]
		}
		return int(math.Copysign(1, b.w-a.w))
	})
	hs = slices.CompactFunc(hs, func(a, b hit) bool {
		return a.start == b.start && a.end == b.end && a.name == b.name && a.in == b.in
	})
	if len(hs) > maxHits {
		hs = hs[:maxHits] // the first: a flood repeats itself
	}
	for i := range hs {
		h := &hs[i]
		if h.upgrade == 0 || h.upTo <= h.base {
			continue
		}
		for j := range hs {
			g := &hs[j]
			if j != i && h.upgrade&(1<<g.fam) != 0 && g.w >= 1 && gap(h, g) <= nearby {
				h.w += h.upTo - h.base
				break
			}
		}
	}
	conf := make([]float64, len(hs))
	var best [numFamilies]float64
	for i := range hs {
		h := &hs[i]
		clear(best[:])
		for j := range hs {
			g := &hs[j]
			// Other words nearby: the same words read by two rules are
			// one piece of evidence.
			// Provenance raises a match, not what it lends to others.
			if w := g.w - g.prov; g.fam != h.fam && w > 0.5 && !overlap(h, g) && gap(h, g) <= nearby {
				best[g.fam] = max(best[g.fam], min(w, supportEach))
			}
		}
		support := 0.0
		for _, b := range best {
			support += b
		}
		conf[i] = 1 / (1 + math.Exp(-(bias + h.w + min(supportRate*support, supportCap))))
	}
	// Report each span once, by its strongest evidence.
	order := make([]int, len(hs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return int(math.Copysign(1, conf[b]-conf[a])) })
	var kept []int
	for _, i := range order {
		if conf[i] < ThresholdLow || scan.SeverityRank(SeverityOf(conf[i])) < d.min {
			continue
		}
		h := &hs[i]
		dup := false
		for _, k := range kept {
			g := &hs[k]
			ov := min(h.end, g.end) - max(h.start, g.start)
			if ov > 0 && 2*ov >= min(h.end-h.start, g.end-g.start) {
				dup = true
				break
			}
		}
		if !dup {
			kept = append(kept, i)
		}
	}
	slices.Sort(kept)
	for _, i := range kept {
		h := &hs[i]
		s, e := h.start, h.end
		for s < e && !utf8.RuneStart(text[s]) {
			s++
		}
		for e < len(text) && !utf8.RuneStart(text[e]) {
			e++
		}
		if s >= e {
			continue
		}
		cat := scan.Injection
		if h.jail {
			cat = scan.Jailbreak
		}
		out = append(out, scan.Match{Category: cat, Rule: h.name, Severity: SeverityOf(conf[i]), Confidence: conf[i], Start: s, End: e})
	}
	return out
}
