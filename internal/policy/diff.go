package policy

import (
	"reflect"
	"slices"
)

// MaxDiffExamples bounds the example requests of a PolicyDiff.
const MaxDiffExamples = 50

// PolicyDiff is what changes from one policy to another: the rules added,
// removed and changed (by id), the settings changed, and example requests
// whose decision changes. It is the body of GET /v1/policies/{name}/diff;
// every list is present, empty rather than null, when nothing changed.
type PolicyDiff struct {
	From PolicyRef `json:"from"`
	To   PolicyRef `json:"to"`
	// Identical is set when both have the same digest (and so decide
	// every request alike).
	Identical bool         `json:"identical"`
	Added     []Rule       `json:"added"`
	Removed   []Rule       `json:"removed"`
	Changed   []RuleChange `json:"changed"`
	// Reordered is set when rules present in both appear in another
	// order (which changes only the order of a decision's rules).
	Reordered bool `json:"reordered"`
	// Default is the change of the effective default, if any.
	Default  *FieldChange  `json:"default,omitempty"`
	Scan     []FieldChange `json:"scan"`
	Limits   []FieldChange `json:"limits"`
	Sessions []FieldChange `json:"sessions"`
	Examples []DiffExample `json:"examples"`
}

// PolicyRef names one side of a diff.
type PolicyRef struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
}

// RuleChange is a rule whose id is in both policies but whose content
// differs.
type RuleChange struct {
	ID     string        `json:"id"`
	Fields []FieldChange `json:"fields"`
}

// FieldChange is one field's value before and after; null stands for a
// field (or a limit, a sequence) that one side does not have.
type FieldChange struct {
	Field  string `json:"field"`
	Before any    `json:"before"`
	After  any    `json:"after"`
}

// DiffExample is a request decided differently by the two policies.
type DiffExample struct {
	Request Request     `json:"request"`
	From    DiffOutcome `json:"from"`
	To      DiffOutcome `json:"to"`
}

// DiffOutcome is what one policy decides for a DiffExample's request.
type DiffOutcome struct {
	Effect string   `json:"effect"`
	Rules  []string `json:"rules"`
	// Default is set when no rule applied.
	Default bool `json:"default,omitempty"`
	// Error is set when a condition failed (missing argument, cost
	// limit); the effect is then deny.
	Error string `json:"error,omitempty"`
}

// Diff compares two policy sources, both parsed and compiled with
// ParseAndCompile (whose error it returns as is). The result is
// deterministic: the same sources give the same diff, examples included.
func Diff(from, to []byte) (*PolicyDiff, error) {
	a, err := ParseAndCompile(from)
	if err != nil {
		return nil, err
	}
	b, err := ParseAndCompile(to)
	if err != nil {
		return nil, err
	}
	d := &PolicyDiff{
		From:      PolicyRef{Name: a.Name, Digest: a.Digest},
		To:        PolicyRef{Name: b.Name, Digest: b.Digest},
		Identical: a.Digest == b.Digest,
		Added:     []Rule{}, Removed: []Rule{}, Changed: []RuleChange{},
		Scan: []FieldChange{}, Limits: []FieldChange{}, Sessions: []FieldChange{},
		Examples: []DiffExample{},
	}
	if d.Identical {
		return d, nil
	}
	diffRules(d, a.Doc.Rules, b.Doc.Rules)
	if a.def != b.def {
		d.Default = &FieldChange{Field: "default", Before: a.def, After: b.def}
	}
	d.Scan = diffScan(a.Doc.Scan, b.Doc.Scan)
	d.Limits = diffLimits(a.Doc.Limits, b.Doc.Limits)
	d.Sessions = diffSessions(a.Doc.Sessions, b.Doc.Sessions)
	d.Examples = diffExamples(a, b)
	return d, nil
}

func diffRules(d *PolicyDiff, from, to []Rule) {
	byID := func(rs []Rule) map[string]*Rule {
		m := make(map[string]*Rule, len(rs))
		for i := range rs {
			m[rs[i].ID] = &rs[i]
		}
		return m
	}
	fromIDs, toIDs := byID(from), byID(to)
	var fromOrder, toOrder []string
	for i := range from {
		r := &from[i]
		after, ok := toIDs[r.ID]
		if !ok {
			d.Removed = append(d.Removed, *r)
			continue
		}
		fromOrder = append(fromOrder, r.ID)
		if fields := diffRule(r, after); len(fields) > 0 {
			d.Changed = append(d.Changed, RuleChange{ID: r.ID, Fields: fields})
		}
	}
	for i := range to {
		if _, ok := fromIDs[to[i].ID]; !ok {
			d.Added = append(d.Added, to[i])
		} else {
			toOrder = append(toOrder, to[i].ID)
		}
	}
	d.Reordered = !slices.Equal(fromOrder, toOrder)
}

func diffRule(a, b *Rule) []FieldChange {
	var fs []FieldChange
	add := func(field string, before, after any, same bool) {
		if !same {
			fs = append(fs, FieldChange{Field: field, Before: before, After: after})
		}
	}
	add("match", a.Match, b.Match, a.Match == b.Match)
	add("when", a.When, b.When, a.When == b.When)
	add("effect", a.Effect, b.Effect, a.Effect == b.Effect)
	add("approval", a.Approval, b.Approval, reflect.DeepEqual(a.Approval, b.Approval))
	add("description", a.Description, b.Description, a.Description == b.Description)
	add("reason", a.Reason, b.Reason, a.Reason == b.Reason)
	return fs
}

// diffScan compares the scan mappings; the lists are sets, so order does
// not count, and a missing mapping is an empty one that denies on an
// incomplete scan.
func diffScan(a, b *Scan) []FieldChange {
	if a == nil {
		a = &Scan{}
	}
	if b == nil {
		b = &Scan{}
	}
	fs := []FieldChange{}
	lists := []struct {
		field  string
		before []string
		after  []string
	}{
		{"scan.deny", a.Deny, b.Deny}, {"scan.require_approval", a.RequireApproval, b.RequireApproval},
		{"scan.redact_args", a.RedactArgs, b.RedactArgs}, {"scan.redact_outputs", a.RedactOutputs, b.RedactOutputs},
	}
	for _, l := range lists {
		if !slices.Equal(sortedCopy(l.before), sortedCopy(l.after)) {
			fs = append(fs, FieldChange{Field: l.field, Before: nonNil(l.before), After: nonNil(l.after)})
		}
	}
	onIncomplete := func(s *Scan) string {
		if s.OnIncomplete == "" {
			return Deny
		}
		return s.OnIncomplete
	}
	if x, y := onIncomplete(a), onIncomplete(b); x != y {
		fs = append(fs, FieldChange{Field: "scan.on_incomplete", Before: x, After: y})
	}
	return fs
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// diffByID compares two lists of items with ids: removed and changed in
// the order of a, then added in the order of b. Fields read field[id].
func diffByID[T any](field string, a, b []T, id func(*T) string) []FieldChange {
	fs := []FieldChange{}
	inB := map[string]*T{}
	for i := range b {
		inB[id(&b[i])] = &b[i]
	}
	inA := map[string]bool{}
	for i := range a {
		x := &a[i]
		inA[id(x)] = true
		y, ok := inB[id(x)]
		switch {
		case !ok:
			fs = append(fs, FieldChange{Field: field + "[" + id(x) + "]", Before: *x, After: nil})
		case !reflect.DeepEqual(*x, *y):
			fs = append(fs, FieldChange{Field: field + "[" + id(x) + "]", Before: *x, After: *y})
		}
	}
	for i := range b {
		if y := &b[i]; !inA[id(y)] {
			fs = append(fs, FieldChange{Field: field + "[" + id(y) + "]", Before: nil, After: *y})
		}
	}
	return fs
}

func diffLimits(a, b []Limit) []FieldChange {
	return diffByID("limits", a, b, func(l *Limit) string { return l.ID })
}

func diffSessions(a, b *Sessions) []FieldChange {
	if a == nil {
		a = &Sessions{}
	}
	if b == nil {
		b = &Sessions{}
	}
	fs := diffByID("sessions.forbidden_sequences", a.ForbiddenSequences, b.ForbiddenSequences,
		func(s *Sequence) string { return s.ID })
	if a.MaxActions != b.MaxActions {
		fs = append(fs, FieldChange{Field: "sessions.max_actions", Before: a.MaxActions, After: b.MaxActions})
	}
	if !reflect.DeepEqual(a.Risk, b.Risk) {
		fs = append(fs, FieldChange{Field: "sessions.risk", Before: a.Risk, After: b.Risk})
	}
	return fs
}
