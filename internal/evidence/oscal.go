package evidence

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// OSCAL assessment results (NIST OSCAL 1.0.6): what the export writes
// for compliance platforms. docs/evidence.md ("OSCAL assessment
// results") lists which field carries what.
const (
	OSCALVersion = "1.0.6"
	// OSCALDocVersion is the version of the document Warden writes (the
	// metadata's version): it changes when the fields it fills change.
	OSCALDocVersion = "warden-oscal/1"
	// OSCALNamespace is the ns of every prop Warden defines; the names are
	// documented where it points.
	OSCALNamespace = "https://github.com/wardenhq/warden/blob/main/docs/evidence.md#oscal-assessment-results"
	// OSCALAssessmentPlan is the import-ap href: the archive carries no
	// assessment plan (the auditor's plan lives with the auditor), and
	// "#" is the schema-valid reference to this document itself.
	OSCALAssessmentPlan = "#"
	// OSCALVerificationObjective is the target-id of the verification
	// finding.
	OSCALVerificationObjective = "warden-archive-verification"
	// OSCALFlagObjective is the target-id of a flag's finding when the
	// flag belongs to no criterion.
	OSCALFlagObjective = "warden-flag"
)

// ErrOSCAL reports a summary that cannot be written as valid OSCAL.
var ErrOSCAL = errors.New("oscal")

type oscalDoc struct {
	AssessmentResults oscalAR `json:"assessment-results"`
}

type oscalAR struct {
	UUID     string        `json:"uuid"`
	Metadata oscalMetadata `json:"metadata"`
	ImportAP oscalImportAP `json:"import-ap"`
	Results  []oscalResult `json:"results"`
}

type oscalMetadata struct {
	Title        string      `json:"title"`
	LastModified string      `json:"last-modified"`
	Version      string      `json:"version"`
	OSCALVersion string      `json:"oscal-version"`
	Props        []oscalProp `json:"props,omitempty"`
}

type oscalImportAP struct {
	Href    string `json:"href"`
	Remarks string `json:"remarks,omitempty"`
}

type oscalResult struct {
	UUID             string               `json:"uuid"`
	Title            string               `json:"title"`
	Description      string               `json:"description"`
	Start            string               `json:"start"`
	End              string               `json:"end"`
	Props            []oscalProp          `json:"props,omitempty"`
	ReviewedControls oscalReviewedControl `json:"reviewed-controls"`
	Observations     []oscalObservation   `json:"observations"`
	Findings         []oscalFinding       `json:"findings"`
}

type oscalReviewedControl struct {
	Description       string                  `json:"description"`
	ControlSelections []oscalControlSelection `json:"control-selections"`
}

type oscalControlSelection struct {
	Description     string               `json:"description"`
	IncludeControls []oscalSelectControl `json:"include-controls"`
}

type oscalSelectControl struct {
	ControlID string `json:"control-id"`
}

type oscalProp struct {
	Name  string `json:"name"`
	NS    string `json:"ns,omitempty"`
	Value string `json:"value"`
	Class string `json:"class,omitempty"`
}

type oscalObservation struct {
	UUID             string          `json:"uuid"`
	Title            string          `json:"title"`
	Description      string          `json:"description"`
	Props            []oscalProp     `json:"props,omitempty"`
	Methods          []string        `json:"methods"`
	Types            []string        `json:"types,omitempty"`
	RelevantEvidence []oscalEvidence `json:"relevant-evidence,omitempty"`
	Collected        string          `json:"collected"`
	Remarks          string          `json:"remarks,omitempty"`
}

type oscalEvidence struct {
	Href        string `json:"href"`
	Description string `json:"description"`
}

type oscalFinding struct {
	UUID                string            `json:"uuid"`
	Title               string            `json:"title"`
	Description         string            `json:"description"`
	Target              oscalTarget       `json:"target"`
	RelatedObservations []oscalRelatedObs `json:"related-observations,omitempty"`
}

type oscalTarget struct {
	Type     string      `json:"type"`
	TargetID string      `json:"target-id"`
	Status   oscalStatus `json:"status"`
}

type oscalStatus struct {
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}

type oscalRelatedObs struct {
	ObservationUUID string `json:"observation-uuid"`
}

// OSCALResults returns the summary as an OSCAL 1.0.6 assessment-results
// document, indented: one result for the period (start From, end To)
// that reviews the six SOC 2 criteria, one observation per criterion
// whose props carry the criterion id and each of its counts (the counts
// of report.html), an observation and a finding for the verification,
// and a finding per flag. uuids MUST return distinct version 4 UUIDs
// (NewUUID in production; tests pass a deterministic source); times are
// written in UTC and MUST fall in the years 1900 to 2999, which the
// schema's date-time pattern allows.
func OSCALResults(s *Summary, uuids func() string) ([]byte, error) {
	var errs []error
	uuid := func() string {
		u := uuids()
		if !validUUID(u) {
			errs = append(errs, fmt.Errorf("%w: uuid source returned %q, not a version 4 UUID", ErrOSCAL, u))
		}
		return u
	}
	stamp := func(what string, t time.Time) string {
		t = t.UTC()
		if y := t.Year(); y < 1900 || y > 2999 {
			errs = append(errs, fmt.Errorf("%w: %s %s is outside the years 1900 to 2999", ErrOSCAL, what, t.Format(time.RFC3339)))
		}
		return t.Format(time.RFC3339Nano)
	}
	from, to, generated := stamp("from", s.From), stamp("to", s.To), stamp("generated", s.Generated)
	period := s.From.UTC().Format(time.RFC3339) + " to " + s.To.UTC().Format(time.RFC3339)

	criteria := Criteria(s)
	var (
		observations []oscalObservation
		findings     []oscalFinding
		selected     []oscalSelectControl
	)
	docUUID, resultUUID := uuid(), uuid()
	for _, c := range criteria {
		selected = append(selected, oscalSelectControl{ControlID: c.ID})
		props := []oscalProp{{Name: "criterion", NS: OSCALNamespace, Value: c.ID}}
		var counts []string
		for _, n := range c.Counts {
			props = append(props, oscalProp{Name: n.Name, NS: OSCALNamespace, Value: strconv.FormatInt(n.N, 10), Class: "count"})
			counts = append(counts, fmt.Sprintf("%s %d", n.Name, n.N))
		}
		var evidence []oscalEvidence
		for _, f := range c.Files {
			evidence = append(evidence, oscalEvidence{Href: f, Description: "File " + f + " of the evidence archive."})
		}
		observations = append(observations, oscalObservation{
			UUID:             uuid(),
			Title:            c.ID + " — " + c.Title,
			Description:      fmt.Sprintf("SOC 2 %s (%s), %s: %s.", c.ID, c.Title, period, strings.Join(counts, ", ")),
			Props:            props,
			Methods:          []string{"EXAMINE"},
			Types:            []string{"control-objective"},
			RelevantEvidence: evidence,
			Collected:        generated,
			Remarks:          strings.Join(c.Notes, "\n"),
		})
	}

	verdict, state, reason := "fail", "not-satisfied", "fail"
	if s.Verification.OK {
		verdict, state, reason = "pass", "satisfied", "pass"
	}
	vprops := []oscalProp{{Name: "verification", NS: OSCALNamespace, Value: verdict}}
	var vlines []string
	for _, c := range s.Verification.Checks {
		r := "pass"
		if !c.OK {
			r = "fail"
		}
		if v := oscalString(c.Name + ": " + r); v != "" {
			vprops = append(vprops, oscalProp{Name: "check", NS: OSCALNamespace, Value: v, Class: r})
		}
		line := c.Name + ": " + r
		if c.Detail != "" {
			line += " (" + c.Detail + ")"
		}
		vlines = append(vlines, line)
	}
	vobs := oscalObservation{
		UUID:        uuid(),
		Title:       "Archive verification",
		Description: fmt.Sprintf("Verification of the evidence archive: %s, %d check(s).", verdict, len(s.Verification.Checks)),
		Props:       vprops,
		Methods:     []string{"TEST"},
		RelevantEvidence: []oscalEvidence{
			{Href: FileManifest, Description: "Per-file SHA-256 digests of the archive."},
			{Href: FileManifestSig, Description: "The manifest's signature by the log key."},
			{Href: FileCheckpoints, Description: "Signed checkpoints and proofs bracketing the period."},
		},
		Collected: generated,
		Remarks:   strings.Join(vlines, "\n"),
	}
	observations = append(observations, vobs)
	findings = append(findings, oscalFinding{
		UUID:                uuid(),
		Title:               "Archive verification",
		Description:         pi1Notes(s)[0],
		Target:              oscalTarget{Type: "objective-id", TargetID: OSCALVerificationObjective, Status: oscalStatus{State: state, Reason: reason}},
		RelatedObservations: []oscalRelatedObs{{ObservationUUID: vobs.UUID}},
	})
	for _, f := range s.Flags {
		target, related := OSCALFlagObjective, ""
		if policyFlag(f) {
			target, related = CriterionCC8, observationOf(observations, criteria, CriterionCC8)
		}
		fd := oscalFinding{
			UUID:        uuid(),
			Title:       "Flag",
			Description: f,
			Target:      oscalTarget{Type: "objective-id", TargetID: target, Status: oscalStatus{State: "not-satisfied", Reason: "fail"}},
		}
		if related != "" {
			fd.RelatedObservations = []oscalRelatedObs{{ObservationUUID: related}}
		}
		findings = append(findings, fd)
	}

	var rprops, mprops []oscalProp
	add := func(props *[]oscalProp, name, value string) {
		if v := oscalString(value); v != "" {
			*props = append(*props, oscalProp{Name: name, NS: OSCALNamespace, Value: v})
		}
	}
	add(&mprops, "tenant", s.Tenant)
	add(&mprops, "generator", s.Generator)
	add(&mprops, "key-name", s.KeyName)
	add(&rprops, "tenant", s.Tenant)
	add(&rprops, "entries", strconv.FormatInt(s.Entries, 10))
	add(&rprops, "first-seq", strconv.FormatInt(s.FirstSeq, 10))
	add(&rprops, "last-seq", strconv.FormatInt(s.LastSeq, 10))
	add(&rprops, "verification", verdict)

	doc := oscalDoc{AssessmentResults: oscalAR{
		UUID: docUUID,
		Metadata: oscalMetadata{
			Title:        fmt.Sprintf("Warden SOC 2 evidence for %s, %s", s.Tenant, period),
			LastModified: generated,
			Version:      OSCALDocVersion,
			OSCALVersion: OSCALVersion,
			Props:        mprops,
		},
		ImportAP: oscalImportAP{
			Href:    OSCALAssessmentPlan,
			Remarks: "Warden exports evidence without an assessment plan; the auditor's plan is kept by the auditor.",
		},
		Results: []oscalResult{{
			UUID:        resultUUID,
			Title:       "SOC 2 evidence, " + period,
			Description: fmt.Sprintf("Evidence of tenant %s for %s (end excluded): %d ledger entries, verification %s.", s.Tenant, period, s.Entries, verdict),
			Start:       from,
			End:         to,
			Props:       rprops,
			ReviewedControls: oscalReviewedControl{
				Description: "SOC 2 trust services criteria evidenced by the archive.",
				ControlSelections: []oscalControlSelection{{
					Description:     "The criteria report.html and controls.json map the period's evidence to.",
					IncludeControls: selected,
				}},
			},
			Observations: observations,
			Findings:     findings,
		}},
	}}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", FileOSCAL, err)
	}
	return append(b, '\n'), nil
}

// observationOf returns the uuid of the observation of criterion id
// (observations begin with one per criterion, in criteria order).
func observationOf(obs []oscalObservation, criteria []Criterion, id string) string {
	for i, c := range criteria {
		if c.ID == id {
			return obs[i].UUID
		}
	}
	return ""
}

// oscalString makes s an OSCAL string (the schema's StringDatatype: no
// leading or trailing space, one line): control characters become
// spaces and the ends are trimmed. It returns "" when nothing remains;
// callers then leave the prop out, since the schema forbids it empty.
func oscalString(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, s))
}
