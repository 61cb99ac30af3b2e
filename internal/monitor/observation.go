package monitor

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Decisions an observation may carry: the values of a decision entry
// (policy.Allow, policy.Deny, policy.RequireApproval, policy.RateLimited;
// a test keeps them in step).
const (
	Allow           = "allow"
	Deny            = "deny"
	RequireApproval = "require_approval"
	RateLimited     = "rate_limited"
)

// Outcomes an observation may carry (event.OutcomeSucceeded and
// event.OutcomeFailed).
const (
	Succeeded = "succeeded"
	Failed    = "failed"
)

// Bounds of an observation's fields; the trace decoder and Observe
// reject anything larger.
const (
	MaxIDBytes       = 256  // tenant, agent, action
	MaxFindings      = 256  // categories per observation
	MaxCategoryBytes = 128  // one category
	MinYear          = 2000 // earliest observation time
	MaxYear          = 2200 // latest observation time
)

// ErrObservation is returned (wrapped) for an observation Observe cannot
// take.
var ErrObservation = errors.New("invalid observation")

// Observation is what the monitor learns from one ledger entry: a
// decision, an outcome, or a decision together with its outcome (the
// trace format's shape). It holds ids and categories, never content.
type Observation struct {
	Time   time.Time
	Tenant string
	Agent  string
	// Action is the action type; required with a Decision.
	Action string
	// Decision is allow, deny, require_approval or rate_limited; empty
	// for an outcome alone.
	Decision string
	// Findings are the categories of the scan findings, one per finding
	// ("secret.aws-access-token", "pii.email", "injection").
	Findings []string
	// Spend is what the action cost, in the tenant's unit; 0 when none.
	Spend float64
	// Outcome is succeeded or failed when the action's outcome is known.
	Outcome string
	// LatencyMS is the outcome's duration, counted when HasLatency.
	LatencyMS  float64
	HasLatency bool
}

// Validate checks o's fields and bounds.
func (o *Observation) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrObservation}, args...)...)
	}
	if y := o.Time.UTC().Year(); y < MinYear || y > MaxYear {
		return bad("time %s is outside the years %d to %d", o.Time.Format(time.RFC3339), MinYear, MaxYear)
	}
	for _, f := range []struct{ name, v string }{{"tenant", o.Tenant}, {"agent", o.Agent}} {
		if f.v == "" {
			return bad("%s is empty", f.name)
		}
		if len(f.v) > MaxIDBytes {
			return bad("%s is longer than %d bytes", f.name, MaxIDBytes)
		}
	}
	if len(o.Action) > MaxIDBytes {
		return bad("action is longer than %d bytes", MaxIDBytes)
	}
	switch o.Decision {
	case Allow, Deny, RequireApproval, RateLimited:
		if o.Action == "" {
			return bad("a decision needs an action")
		}
	case "":
		if o.Outcome == "" {
			return bad("neither a decision nor an outcome")
		}
	default:
		return bad("decision %q is not allow, deny, require_approval or rate_limited", o.Decision)
	}
	switch o.Outcome {
	case Succeeded, Failed:
	case "":
		if o.HasLatency {
			return bad("latency without an outcome")
		}
	default:
		return bad("outcome %q is not succeeded or failed", o.Outcome)
	}
	if len(o.Findings) > MaxFindings {
		return bad("more than %d findings", MaxFindings)
	}
	for _, c := range o.Findings {
		if c == "" || len(c) > MaxCategoryBytes {
			return bad("finding category %q is empty or longer than %d bytes", c, MaxCategoryBytes)
		}
	}
	if !(o.Spend >= 0) || math.IsInf(o.Spend, 0) {
		return bad("spend %v is not a finite number at least 0", o.Spend)
	}
	if o.HasLatency && (!(o.LatencyMS >= 0) || math.IsInf(o.LatencyMS, 0)) {
		return bad("latency_ms %v is not a finite number at least 0", o.LatencyMS)
	}
	return nil
}

// Families of finding categories: the monitor counts findings by the
// category's family, so that the state per agent stays bounded however
// many rules the scanner has.
var families = [...]string{"secret", "pii", "injection", "jailbreak", "unsafe_input", "exfiltration", "tool_poisoning", "other"}

const numFamilies = len(families)

// family is the index in families of a category: the part before the
// first dot, "other" when it is not a known family.
func family(category string) int {
	head, _, _ := strings.Cut(category, ".")
	for i, f := range families[:numFamilies-1] {
		if head == f {
			return i
		}
	}
	return numFamilies - 1
}
