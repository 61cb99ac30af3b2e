package secret

import (
	"fmt"
	"slices"
)

// PlanMismatches runs every format rule of d over text twice: by its
// plan, as Detect does, and as gitleaks does, FindAll over the whole text
// for each rule whose keyword occurs. It describes every rule whose
// findings differ, and counts the rules by plan.
func PlanMismatches(d *Detector, text string) (diffs []string, plans [3]int) {
	for _, r := range d.rules {
		plans[r.reach.plan]++
	}
	sc := d.pool.Get().(*scratch)
	defer d.pool.Put(sc)
	sc.cands = sc.cands[:0]
	sc.hits = d.ac.scan(text, sc.hits[:0])
	triggered := make([]bool, len(d.rules))
	for _, ri := range d.always {
		triggered[ri] = true
	}
	for _, h := range sc.hits {
		if h.pat < d.nRulePats {
			for _, ri := range d.patRules[h.pat] {
				triggered[ri] = true
			}
		}
	}
	d.runRules(text, sc)
	planned := map[string][]cand{}
	for _, c := range sc.cands {
		planned[c.m.Rule] = append(planned[c.m.Rule], c)
	}
	for ri := range d.rules {
		r := &d.rules[ri]
		sc.cands = sc.cands[:0]
		if triggered[ri] {
			d.runRegex(r, text, 0, len(text), sc)
		}
		if !slices.Equal(sc.cands, planned[r.id]) {
			diffs = append(diffs, fmt.Sprintf("rule %s (plan %d): planned %v, whole text %v", r.id, r.reach.plan, planned[r.id], sc.cands))
		}
	}
	sc.cands = sc.cands[:0]
	return diffs, plans
}
