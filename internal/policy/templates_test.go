package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The starting policies in policies/ at the top of the repository are
// product: each must compile, pass its own cases (NAME.cases.yaml beside
// it) and have every rule exercised by some case, so that a change to the
// engine or to a template that alters a decision fails here.

const templatesDir = "../../policies"

// minTemplates is how many starting policies the repository promises.
const minTemplates = 8

func TestTemplates(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(templatesDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var templates []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".cases.yaml") {
			templates = append(templates, f)
		}
	}
	if len(templates) < minTemplates {
		t.Fatalf("%s holds %d templates, want at least %d", templatesDir, len(templates), minTemplates)
	}
	readme, err := os.ReadFile(filepath.Join(templatesDir, "README.md"))
	if err != nil {
		t.Fatalf("templates README: %v", err)
	}
	for _, file := range templates {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			doc, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			p, err := ParseAndCompile(doc)
			if err != nil {
				t.Fatalf("ParseAndCompile(%s) = %v, want nil", file, err)
			}
			checkTemplateShape(t, name, p)
			if !strings.Contains(string(readme), "`"+name+".yaml`") {
				t.Errorf("README.md does not describe `%s.yaml`", name)
			}
			casesFile := filepath.Join(templatesDir, name+".cases.yaml")
			data, err := os.ReadFile(casesFile)
			if err != nil {
				t.Fatalf("every template needs its cases beside it: %v", err)
			}
			cases, err := ParseCases(data)
			if err != nil {
				t.Fatalf("ParseCases(%s) = %v, want nil", casesFile, err)
			}
			rep := RunCases(p, cases)
			for _, r := range rep.Results {
				if !r.Pass {
					t.Errorf("%s:%d %q: got %s, want %s (error %q)", casesFile, r.Line, r.Name, r.Got, r.Want, r.Error)
				}
			}
			if len(rep.Unexercised) > 0 {
				t.Errorf("%s: rules no case exercised: %s", casesFile, strings.Join(rep.Unexercised, ", "))
			}
			checkCaseCoverage(t, casesFile, cases, rep)
		})
	}
	// A cases file without its template would never run.
	for _, f := range files {
		if base, ok := strings.CutSuffix(f, ".cases.yaml"); ok {
			if _, err := os.Stat(base + ".yaml"); err != nil {
				t.Errorf("%s has no template beside it: %v", f, err)
			}
		}
	}
}

// checkTemplateShape holds a template to what a starting policy promises:
// its file's name, default deny, a scan mapping that fails closed, and
// approvals that say who approves.
func checkTemplateShape(t *testing.T, name string, p *Policy) {
	t.Helper()
	if p.Name != name {
		t.Errorf("policy name %q, want the file's name %q", p.Name, name)
	}
	if p.def != Deny {
		t.Errorf("default %q, want deny", p.def)
	}
	if p.Doc.Scan == nil || p.scan.onIncomplete != Deny || len(p.scan.deny) == 0 {
		t.Errorf("scan mapping %+v, want one that denies some findings and incomplete scans", p.Doc.Scan)
	}
	approvals := 0
	for _, r := range p.Doc.Rules {
		if r.Description == "" && r.Reason == "" {
			t.Errorf("rule %s has no description: an answer's reason would only name its id", r.ID)
		}
		if r.Effect == RequireApproval {
			approvals++
			if r.Approval == nil || (len(r.Approval.Groups) == 0 && len(r.Approval.Keys) == 0) {
				t.Errorf("rule %s asks for approval without saying whose", r.ID)
			}
		}
	}
	if approvals == 0 {
		t.Errorf("no rule requires approval; a starting policy shows where a person decides")
	}
}

// checkCaseCoverage asks of a cases file at least 12 cases, every
// decision, a default and a scan-decided case among them.
func checkCaseCoverage(t *testing.T, file string, cases []Case, rep *CaseReport) {
	t.Helper()
	if len(cases) < 12 {
		t.Errorf("%s has %d cases, want at least 12", file, len(cases))
	}
	seen := map[string]bool{}
	for _, r := range rep.Results {
		seen[r.Got.Decision] = true
		seen["code "+r.Got.Code] = true
	}
	for _, want := range []string{Allow, Deny, RequireApproval, "code " + CodeDefault, "code " + CodeScan} {
		if !seen[want] {
			t.Errorf("%s: no case decided %s", file, want)
		}
	}
}

// TestBuiltinDefaultCases runs the built-in starting policy against its
// cases: it is the policy every new tenant evaluates with.
func TestBuiltinDefaultCases(t *testing.T) {
	p, err := ParseAndCompile(BuiltinDefault())
	if err != nil {
		t.Fatalf("built-in default: %v", err)
	}
	data, err := os.ReadFile("builtin/default.cases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases, err := ParseCases(data)
	if err != nil {
		t.Fatalf("ParseCases(builtin/default.cases.yaml) = %v", err)
	}
	rep := RunCases(p, cases)
	for _, r := range rep.Results {
		if !r.Pass {
			t.Errorf("case %q (line %d): want %s, got %s %s", r.Name, r.Line, r.Want, r.Got, r.Error)
		}
	}
	if len(rep.Unexercised) > 0 {
		t.Errorf("rules no case exercises: %v", rep.Unexercised)
	}
}
