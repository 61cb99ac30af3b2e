package evidence

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// oscalSchemaPath is NIST's published schema, shared by the projects of
// this workspace; it is read in place, never copied into the repository.
const oscalSchemaPath = "../../../shared/testdata/oscal/oscal_assessment-results_schema-1.0.6.json"

// seqUUIDs is a deterministic uuid source: version 4 form, counting up.
func seqUUIDs() func() string {
	n := 0
	return func() string {
		n++
		return fmt.Sprintf("00000000-0000-4000-8000-%012x", n)
	}
}

func oscalSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(oscalSchemaPath)
	if err != nil {
		t.Fatalf("open OSCAL schema: %v", err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("decode OSCAL schema %s: %v", oscalSchemaPath, err)
	}
	anchorRefs(doc)
	c := jsonschema.NewCompiler()
	// Formats (date-time, uri, uri-reference) are asserted too, not only
	// the patterns; Go's regexp (RE2) compiles every pattern of the schema.
	c.AssertFormat()
	if err := c.AddResource("oscal-ar-schema.json", doc); err != nil {
		t.Fatalf("add OSCAL schema: %v", err)
	}
	sch, err := c.Compile("oscal-ar-schema.json")
	if err != nil {
		t.Fatalf("compile OSCAL schema: %v", err)
	}
	return sch
}

// anchorRefs rewrites, in the decoded schema, every subschema that has
// both an "$id" (a plain-name anchor such as "#field_oscal-metadata_version")
// and a "$ref" into one whose "$ref" sits under "allOf". NIST's generator
// writes them as siblings, but draft-07 says a "$ref" makes its siblings
// ignored, so a strict validator (this one: santhosh-tekuri/jsonschema#129,
// usnistgov/OSCAL#1908) never defines those anchors and the schema does not
// compile. The rewrite keeps what NIST meant: the anchor names a schema
// that applies the referenced one. Nothing else of the schema changes.
func anchorRefs(v any) {
	switch v := v.(type) {
	case map[string]any:
		if ref, ok := v["$ref"]; ok {
			if _, ok := v["$id"]; ok {
				delete(v, "$ref")
				v["allOf"] = []any{map[string]any{"$ref": ref}}
			}
		}
		for _, x := range v {
			anchorRefs(x)
		}
	case []any:
		for _, x := range v {
			anchorRefs(x)
		}
	}
}

func validateOSCAL(t *testing.T, sch *jsonschema.Schema, b []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode OSCAL document: %v", err)
	}
	return sch.Validate(inst)
}

func TestOSCALResultsValidates(t *testing.T) {
	sch := oscalSchema(t)
	failed := soc2Summary()
	failed.Verification = Verification{OK: false, Checks: []Check{
		{Name: "manifest signature", OK: true},
		{Name: "chain", OK: false, Detail: "entry 7 does not follow entry 6\n(prev hash differs)"},
	}}
	weird := soc2Summary()
	weird.Tenant = " <script>alert(1)</script>\n"
	weird.Flags = []string{"policy x version 1 was activated without a second approver", "  \n"}
	weird.Generated = weird.Generated.Add(123456789 * time.Nanosecond)
	tests := []struct {
		name string
		s    *Summary
	}{
		{"verified", soc2Summary()},
		{"failed", failed},
		{"empty", &Summary{From: failed.From, To: failed.To, Generated: failed.Generated}},
		{"odd text", weird},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := OSCALResults(tt.s, seqUUIDs())
			if err != nil {
				t.Fatalf("OSCALResults = %v", err)
			}
			if err := validateOSCAL(t, sch, b); err != nil {
				t.Fatalf("OSCALResults does not validate: %v\n%s", err, b)
			}
		})
	}
}

// TestOSCALSchemaRejects shows the validator is not vacuous: documents
// that break the schema in ways a careless writer would are refused.
func TestOSCALSchemaRejects(t *testing.T) {
	sch := oscalSchema(t)
	good, err := OSCALResults(soc2Summary(), seqUUIDs())
	if err != nil {
		t.Fatalf("OSCALResults = %v", err)
	}
	tests := []struct{ name, from, to string }{
		{"prop name not a token", `"name": "criterion"`, `"name": "the criterion"`},
		{"empty prop value", `"value": "CC6"`, `"value": ""`},
		{"time without zone", `"start": "2025-01-01T00:00:00Z"`, `"start": "2025-01-01T00:00:00"`},
		{"unknown method field", `"methods": [`, `"method": [`},
		{"uuid version 1", `"uuid": "00000000-0000-4000-8000-000000000001"`, `"uuid": "00000000-0000-1000-8000-000000000001"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !bytes.Contains(good, []byte(tt.from)) {
				t.Fatalf("document holds no %s", tt.from)
			}
			bad := bytes.Replace(good, []byte(tt.from), []byte(tt.to), 1)
			if err := validateOSCAL(t, sch, bad); err == nil {
				t.Errorf("validate(%s) = nil, want an error", tt.name)
			}
		})
	}
}

// oscalRead is the part of the document the content test reads.
type oscalRead struct {
	AssessmentResults struct {
		Metadata struct {
			OSCALVersion string `json:"oscal-version"`
			LastModified string `json:"last-modified"`
		} `json:"metadata"`
		Results []struct {
			Start            string `json:"start"`
			End              string `json:"end"`
			ReviewedControls struct {
				ControlSelections []struct {
					IncludeControls []struct {
						ControlID string `json:"control-id"`
					} `json:"include-controls"`
				} `json:"control-selections"`
			} `json:"reviewed-controls"`
			Observations []struct {
				UUID      string      `json:"uuid"`
				Title     string      `json:"title"`
				Props     []oscalProp `json:"props"`
				Methods   []string    `json:"methods"`
				Collected string      `json:"collected"`
			} `json:"observations"`
			Findings []struct {
				Title  string      `json:"title"`
				Target oscalTarget `json:"target"`
			} `json:"findings"`
		} `json:"results"`
	} `json:"assessment-results"`
}

func TestOSCALResultsContent(t *testing.T) {
	s := soc2Summary()
	b, err := OSCALResults(s, seqUUIDs())
	if err != nil {
		t.Fatalf("OSCALResults = %v", err)
	}
	var doc oscalRead
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("decode OSCAL: %v", err)
	}
	ar := doc.AssessmentResults
	if ar.Metadata.OSCALVersion != "1.0.6" || ar.Metadata.LastModified != "2025-04-02T08:30:00Z" {
		t.Errorf("metadata = %+v, want oscal-version 1.0.6, last-modified 2025-04-02T08:30:00Z", ar.Metadata)
	}
	if len(ar.Results) != 1 {
		t.Fatalf("results = %d, want 1", len(ar.Results))
	}
	r := ar.Results[0]
	if r.Start != "2025-01-01T00:00:00Z" || r.End != "2025-04-01T00:00:00Z" {
		t.Errorf("result period = %s to %s, want 2025-01-01T00:00:00Z to 2025-04-01T00:00:00Z", r.Start, r.End)
	}
	var reviewed []string
	for _, cs := range r.ReviewedControls.ControlSelections {
		for _, c := range cs.IncludeControls {
			reviewed = append(reviewed, c.ControlID)
		}
	}
	if strings.Join(reviewed, ",") != strings.Join(soc2Order, ",") {
		t.Errorf("reviewed controls = %v, want %v", reviewed, soc2Order)
	}

	// One observation per criterion, with the counts of the report.
	perCriterion := map[string]int{}
	var verification string
	for _, o := range r.Observations {
		if o.Collected != "2025-04-02T08:30:00Z" {
			t.Errorf("observation %q collected %s, want 2025-04-02T08:30:00Z", o.Title, o.Collected)
		}
		props := map[string]string{}
		for _, p := range o.Props {
			if p.NS != OSCALNamespace {
				t.Errorf("prop %s of %q has ns %q, want %q", p.Name, o.Title, p.NS, OSCALNamespace)
			}
			if p.Class == "count" || p.Name == "criterion" || p.Name == "verification" {
				props[p.Name] = p.Value
			}
		}
		if v, ok := props["verification"]; ok {
			verification = v
			if strings.Join(o.Methods, ",") != "TEST" {
				t.Errorf("verification observation methods = %v, want [TEST]", o.Methods)
			}
			continue
		}
		id := props["criterion"]
		perCriterion[id]++
		want, ok := soc2Want[id]
		if !ok {
			t.Errorf("observation %q names criterion %q", o.Title, id)
			continue
		}
		if len(props) != len(want)+1 {
			t.Errorf("observation %s has %d count props, want %d", id, len(props)-1, len(want))
		}
		for name, n := range want {
			if props[name] != strconv.FormatInt(n, 10) {
				t.Errorf("observation %s prop %s = %q, want %d", id, name, props[name], n)
			}
		}
	}
	for _, id := range soc2Order {
		if perCriterion[id] != 1 {
			t.Errorf("observations of %s = %d, want 1", id, perCriterion[id])
		}
	}
	if verification != "pass" {
		t.Errorf("verification prop = %q, want pass", verification)
	}
	var vf, flags int
	for _, f := range r.Findings {
		switch f.Target.TargetID {
		case OSCALVerificationObjective:
			vf++
			if f.Target.Status.State != "satisfied" {
				t.Errorf("verification finding state = %q, want satisfied", f.Target.Status.State)
			}
		case CriterionCC8:
			flags++
		}
	}
	if vf != 1 || flags != 1 {
		t.Errorf("findings: %d of verification, %d of CC8 flags; want 1 and 1", vf, flags)
	}
}

func TestOSCALResultsRefuses(t *testing.T) {
	tests := []struct {
		name  string
		s     *Summary
		uuids func() string
	}{
		{"bad uuid", soc2Summary(), func() string { return "not-a-uuid" }},
		{"zero period", &Summary{}, seqUUIDs()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := OSCALResults(tt.s, tt.uuids); err == nil {
				t.Errorf("OSCALResults(%s) = nil error, want one", tt.name)
			}
		})
	}
}

func TestNewUUID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		u := NewUUID()
		if !validUUID(u) {
			t.Fatalf("NewUUID() = %q, not a version 4 UUID", u)
		}
		if seen[u] {
			t.Fatalf("NewUUID() repeated %q", u)
		}
		seen[u] = true
	}
}
