package evidence

import "time"

// Summary is what an archive says about its period, for people
// (report.html), for tools (controls.json) and for compliance platforms
// (OSCAL assessment results). Export fills it from the period's entries
// and the verification it ran; Verify fills the Verification of an
// archive it checked.
type Summary struct {
	Tenant string `json:"tenant"`
	// From and To bound the period, [From, To).
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Generated is when the archive was made, Generator by what
	// ("warden 0.x").
	Generated time.Time `json:"generated"`
	Generator string    `json:"generator"`
	// KeyName is the name of the log key that signs the checkpoints and
	// the manifest (the sumdb/note key name).
	KeyName string `json:"key_name"`
	// Entries is how many entries the period holds; FirstSeq and LastSeq
	// the seqs of its first and last (-1 when it holds none).
	Entries  int64 `json:"entries"`
	FirstSeq int64 `json:"first_seq"`
	LastSeq  int64 `json:"last_seq"`
	// Kinds counts the period's entries by kind.
	Kinds map[string]int64 `json:"kinds"`
	// Decisions counts the period's decisions by effect (allow, deny,
	// require_approval, rate_limited); WithFindings those that recorded a
	// scan finding.
	Decisions    map[string]int64 `json:"decisions"`
	WithFindings int64            `json:"with_findings"`
	// Pruned are the seq ranges [from, to) of the period whose bodies
	// were pruned under the tenant's retention (their hashes remain).
	Pruned [][2]int64 `json:"pruned,omitempty"`
	// Heartbeats is the monitoring coverage of the period.
	Heartbeats Coverage `json:"heartbeats"`
	// Checkpoints is how many signed checkpoints the archive holds (the
	// start and end ones of checkpoints.json: 2, or 1 when the period
	// starts the log); availability (A1) reports it.
	Checkpoints int64 `json:"checkpoints"`
	// Flags are findings an auditor should read first, such as policy
	// versions activated without a second approver.
	Flags []string `json:"flags"`
	// Verification is the result of checking the archive.
	Verification Verification `json:"verification"`
	// Criteria is the SOC 2 mapping (Criteria fills it).
	Criteria []Criterion `json:"criteria"`
}

// Coverage is how continuously the monitor ran: its heartbeats in the
// period and every gap between two of them (or between a bound of the
// period and the nearest heartbeat) longer than MaxGap.
type Coverage struct {
	Count  int64         `json:"count"`
	MaxGap time.Duration `json:"max_gap"`
	Gaps   []Gap         `json:"gaps"`
}

// Gap is a stretch of the period without a heartbeat.
type Gap struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Verification is a verdict per check and the overall one.
type Verification struct {
	OK     bool    `json:"ok"`
	Checks []Check `json:"checks"`
}

// Check is one named check of an archive and its verdict.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// Criterion is one SOC 2 trust services criterion (CC6, CC7, CC8, A1,
// PI1, C1): what the archive holds as its evidence.
type Criterion struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// Counts are named counts of evidence, in a fixed order.
	Counts []Count `json:"counts"`
	// Files are the archive's files that evidence it.
	Files []string `json:"files"`
	// Notes explain what the counts show and flag what is missing.
	Notes []string `json:"notes,omitempty"`
}

// Count is one named number.
type Count struct {
	Name string `json:"name"`
	N    int64  `json:"n"`
}

// Files of an archive (the paths inside the zip).
const (
	FileManifest    = "manifest.json"
	FileManifestSig = "manifest.sig"
	FileEntries     = "entries.ndjson"
	FileEntriesCSV  = "entries.csv"
	FileCheckpoints = "checkpoints.json" // the start and end checkpoints (notes) and the proofs
	FilePolicies    = "policies.json"    // versions with author, approvals, activations; sources under policies/
	FileAccess      = "access.json"      // keys, roles, bindings now; their changes; reviews and sign-offs
	FileKillSwitch  = "kill_switches.json"
	FileAlerts      = "alerts.json"
	FileIncidents   = "incidents.json"
	FileApprovals   = "approvals.json"
	FileMonitoring  = "monitoring.json" // heartbeats and coverage
	FileSettings    = "settings.json"   // settings now, their changes, prunes
	FileReport      = "report.html"
	FileControls    = "controls.json"
	FileOSCAL       = "oscal-assessment-results.json"
)
