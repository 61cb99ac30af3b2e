package evidence

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/event"
)

// Kinds of the log's own maintenance entries. They are registered by the
// retention and key rotation work; the mapping only needs their names.
const (
	kindLogPruned     = "retention.pruned"
	kindLogKeyRotated = "signing_key.rotated"
)

// The SOC 2 trust services criteria an archive evidences, in report
// order.
const (
	CriterionCC6 = "CC6"
	CriterionCC7 = "CC7"
	CriterionCC8 = "CC8"
	CriterionA1  = "A1"
	CriterionPI1 = "PI1"
	CriterionC1  = "C1"
)

// Decision effects, counted as "decisions.<effect>" in PI1. Effects the
// period holds beyond these follow them in name order.
var decisionEffects = []string{"allow", "deny", "require_approval", "rate_limited"}

// Names of the counts that do not come straight from an entry kind.
// Every name is an OSCAL token (letters, digits, '.', '-', '_').
const (
	CountHeartbeats         = "monitor.heartbeats"
	CountHeartbeatGaps      = "monitor.gaps"
	CountUncoveredSeconds   = "monitor.uncovered_seconds"
	CountCheckpoints        = "checkpoints"
	CountDecisions          = "decisions"
	CountWithFindings       = "decisions.with_findings"
	CountPrunedRanges       = "pruned.ranges"
	CountPrunedEntries      = "pruned.entries"
	CountVerificationOK     = "verification.ok"
	CountVerificationChecks = "verification.checks"
	CountVerificationFailed = "verification.failed"
)

// Criteria maps a summary to the six SOC 2 criteria: for each, the counts
// of the period that evidence it, the archive's files that hold that
// evidence, and notes on what the counts show or lack. It reads s.Kinds,
// s.Decisions, s.WithFindings, s.Heartbeats, s.Pruned, s.Checkpoints,
// s.Flags and s.Verification and does not modify s. docs/evidence.md
// ("SOC 2 mapping") is the table this function implements.
func Criteria(s *Summary) []Criterion {
	kind := func(k string) Count { return Count{Name: k, N: s.Kinds[k]} }
	return []Criterion{
		{
			ID:    CriterionCC6,
			Title: "Logical access",
			Counts: []Count{
				kind(event.KindKeyCreated),
				kind(event.KindKeyChanged),
				kind(event.KindKeyRevoked),
				kind(event.KindAccessRefused),
				kind(event.KindReviewSigned),
				kind(event.KindTenantSuspended),
				kind(kindLogKeyRotated),
			},
			Files: []string{FileAccess, FileEntries, FileEntriesCSV},
			Notes: cc6Notes(s),
		},
		{
			ID:    CriterionCC7,
			Title: "System operations",
			Counts: []Count{
				{Name: CountHeartbeats, N: s.Heartbeats.Count},
				{Name: CountHeartbeatGaps, N: int64(len(s.Heartbeats.Gaps))},
				kind(event.KindAlertRaised),
				kind(event.KindAlertAcknowledged),
				kind(event.KindAlertResolved),
				kind(event.KindIncidentOpened),
				kind(event.KindIncidentNoted),
				kind(event.KindIncidentLinked),
				kind(event.KindIncidentResolved),
				kind(event.KindControlSet),
				kind(event.KindControlCleared),
				kind(event.KindNotification),
			},
			Files: []string{FileMonitoring, FileAlerts, FileIncidents, FileKillSwitch, FileEntries},
			Notes: cc7Notes(s),
		},
		{
			ID:    CriterionCC8,
			Title: "Change management",
			Counts: []Count{
				kind(event.KindPolicyVersion),
				kind(event.KindPolicyApproved),
				kind(event.KindPolicyRefused),
				kind(event.KindPolicyActive),
				kind(event.KindPolicyCandidate),
				kind(event.KindSettingChanged),
			},
			Files: []string{FilePolicies, FileSettings, FileEntries},
			Notes: cc8Notes(s),
		},
		{
			ID:    CriterionA1,
			Title: "Availability",
			Counts: []Count{
				{Name: CountHeartbeats, N: s.Heartbeats.Count},
				{Name: CountHeartbeatGaps, N: int64(len(s.Heartbeats.Gaps))},
				{Name: CountUncoveredSeconds, N: int64(uncovered(s.Heartbeats.Gaps) / time.Second)},
				{Name: CountCheckpoints, N: s.Checkpoints},
			},
			Files: []string{FileMonitoring, FileCheckpoints, FileManifest, FileManifestSig},
			Notes: a1Notes(s),
		},
		{
			ID:     CriterionPI1,
			Title:  "Processing integrity",
			Counts: pi1Counts(s),
			Files:  []string{FileEntries, FileEntriesCSV, FileApprovals, FileCheckpoints, FileManifest},
			Notes:  pi1Notes(s),
		},
		{
			ID:    CriterionC1,
			Title: "Confidentiality",
			Counts: []Count{
				{Name: CountWithFindings, N: s.WithFindings},
				kind(kindLogPruned),
				{Name: CountPrunedRanges, N: int64(len(s.Pruned))},
				{Name: CountPrunedEntries, N: prunedEntries(s.Pruned)},
				kind(event.KindSettingChanged),
			},
			Files: []string{FileEntries, FileSettings, FileCheckpoints},
			Notes: c1Notes(s),
		},
	}
}

func cc6Notes(s *Summary) []string {
	var notes []string
	if s.Kinds[event.KindReviewSigned] == 0 {
		notes = append(notes, "No access review was signed in the period.")
	}
	if n := s.Kinds[kindLogKeyRotated]; n > 0 {
		notes = append(notes, fmt.Sprintf("The log signing key was rotated %d time(s); each handover entry is signed under the previous key.", n))
	}
	return notes
}

func cc7Notes(s *Summary) []string {
	c := s.Heartbeats
	if len(c.Gaps) == 0 {
		if c.Count == 0 {
			return []string{"The monitor recorded no heartbeat in the period."}
		}
		return []string{fmt.Sprintf("Monitor heartbeats cover the whole period: no gap longer than %s.", c.MaxGap)}
	}
	notes := []string{fmt.Sprintf("%d gap(s) in monitor heartbeats longer than %s:", len(c.Gaps), c.MaxGap)}
	for _, g := range c.Gaps {
		notes = append(notes, gapText(g))
	}
	return notes
}

// gapText describes one gap for people: its bounds in UTC and length.
func gapText(g Gap) string {
	return fmt.Sprintf("No heartbeat from %s to %s (%s).",
		g.From.UTC().Format(time.RFC3339), g.To.UTC().Format(time.RFC3339), g.To.Sub(g.From))
}

// policyFlag reports whether a flag is about policy changes, and so
// belongs to CC8. Flags are free text; the summary does not type them.
func policyFlag(f string) bool {
	return strings.Contains(strings.ToLower(f), "policy")
}

func cc8Notes(s *Summary) []string {
	var notes []string
	for _, f := range s.Flags {
		if policyFlag(f) {
			notes = append(notes, "Flag: "+f)
		}
	}
	if s.Kinds[event.KindPolicyActive] > 0 && s.Kinds[event.KindPolicyApproved] == 0 {
		notes = append(notes, "Policy versions were activated in the period, and none was approved in it.")
	}
	return notes
}

func a1Notes(s *Summary) []string {
	notes := []string{}
	if p := s.To.Sub(s.From); p > 0 {
		covered := 1 - float64(uncovered(s.Heartbeats.Gaps))/float64(p)
		notes = append(notes, fmt.Sprintf("Monitoring coverage: %.2f%% of the period.", 100*max(covered, 0)))
	}
	if s.Checkpoints == 0 {
		notes = append(notes, "The archive holds no signed checkpoint.")
	}
	return notes
}

func pi1Counts(s *Summary) []Count {
	var total int64
	for _, n := range s.Decisions {
		total += n
	}
	counts := []Count{{Name: CountDecisions, N: total}}
	for _, e := range decisionEffects {
		counts = append(counts, Count{Name: "decisions." + e, N: s.Decisions[e]})
	}
	for _, e := range slices.Sorted(maps.Keys(s.Decisions)) {
		if !slices.Contains(decisionEffects, e) {
			counts = append(counts, Count{Name: "decisions." + e, N: s.Decisions[e]})
		}
	}
	var failed int64
	for _, c := range s.Verification.Checks {
		if !c.OK {
			failed++
		}
	}
	ok := int64(0)
	if s.Verification.OK {
		ok = 1
	}
	return append(counts,
		Count{Name: event.KindOutcome, N: s.Kinds[event.KindOutcome]},
		Count{Name: event.KindApprovalVoted, N: s.Kinds[event.KindApprovalVoted]},
		Count{Name: event.KindApprovalRefused, N: s.Kinds[event.KindApprovalRefused]},
		Count{Name: event.KindApprovalResolved, N: s.Kinds[event.KindApprovalResolved]},
		Count{Name: CountVerificationOK, N: ok},
		Count{Name: CountVerificationChecks, N: int64(len(s.Verification.Checks))},
		Count{Name: CountVerificationFailed, N: failed},
	)
}

func pi1Notes(s *Summary) []string {
	if s.Verification.OK {
		return []string{fmt.Sprintf("Verification passed: %d check(s).", len(s.Verification.Checks))}
	}
	var failed []string
	for _, c := range s.Verification.Checks {
		if !c.OK {
			failed = append(failed, c.Name)
		}
	}
	if len(failed) == 0 {
		return []string{"Verification failed."}
	}
	return []string{"Verification failed: " + strings.Join(failed, ", ") + "."}
}

func c1Notes(s *Summary) []string {
	notes := []string{"Decisions keep a finding's category, rule and location; the matched value only as a per-tenant HMAC."}
	if len(s.Pruned) > 0 {
		notes = append(notes, fmt.Sprintf("Bodies of %d entries were pruned under retention; their hashes remain and still verify.", prunedEntries(s.Pruned)))
	}
	return notes
}

// uncovered is the total length of the gaps.
func uncovered(gaps []Gap) time.Duration {
	var d time.Duration
	for _, g := range gaps {
		if g.To.After(g.From) {
			d += g.To.Sub(g.From)
		}
	}
	return d
}

// prunedEntries is how many seqs the [from, to) ranges hold.
func prunedEntries(r [][2]int64) int64 {
	var n int64
	for _, p := range r {
		if p[1] > p[0] {
			n += p[1] - p[0]
		}
	}
	return n
}
