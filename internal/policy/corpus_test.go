package policy

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// The corpus (testdata/corpus/*.yaml) pins decisions worked out by hand
// from DESIGN.md section 5: each file is one policy and the requests it is
// asked about, with the effect, the applied rules (document order) and the
// code of the first reason that the engine must give (the deciding
// reasons come first: see TestDecidingReasonFirst).

// corpusFile is one file of the corpus.
type corpusFile struct {
	// Policy is the document: a YAML mapping, or a string holding YAML or
	// JSON.
	Policy yaml.Node    `yaml:"policy"`
	Cases  []corpusCase `yaml:"cases"`
}

type corpusCase struct {
	Name           string         `yaml:"name"`
	Request        corpusRequest  `yaml:"request"`
	Findings       []Finding      `yaml:"findings"`
	ScanIncomplete bool           `yaml:"scan_incomplete"`
	Session        map[string]any `yaml:"session"`
	// Generated adds arguments too large or too deep to write out.
	Generated []generatedArg `yaml:"generated_args"`
	Effect    string         `yaml:"effect"`
	Rules     []string       `yaml:"rules"`
	Code      string         `yaml:"code"`
}

type corpusRequest struct {
	Principal struct {
		ID         string         `yaml:"id"`
		Type       string         `yaml:"type"`
		Attributes map[string]any `yaml:"attributes"`
	} `yaml:"principal"`
	Action struct {
		Type      string `yaml:"type"`
		Resource  string `yaml:"resource"`
		Operation string `yaml:"operation"`
	} `yaml:"action"`
	Args    map[string]any `yaml:"args"`
	Context struct {
		SessionID       string `yaml:"session_id"`
		TraceID         string `yaml:"trace_id"`
		ParentReceiptID string `yaml:"parent_receipt_id"`
		Environment     string `yaml:"environment"`
	} `yaml:"context"`
}

// generatedArg sets args[key] to text repeated count times or, with depth,
// to depth maps nested under "n" around leaf.
type generatedArg struct {
	Key   string `yaml:"key"`
	Text  string `yaml:"text"`
	Count int    `yaml:"count"`
	Depth int    `yaml:"depth"`
	Leaf  any    `yaml:"leaf"`
}

func TestCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("corpus files: %v, %v; want some", files, err)
	}
	total := 0
	for _, file := range files {
		cf, doc, err := loadCorpusFile(file)
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		p, err := ParseAndCompile(doc)
		if err != nil {
			t.Errorf("%s: ParseAndCompile = %v, want nil", file, err)
			continue
		}
		// The cases are about cost limits, not about this machine's speed:
		// TestConditionDeadline covers the wall-clock backstop.
		p = p.WithConditionTimeout(time.Minute)
		seen := map[string]bool{}
		for _, c := range cf.Cases {
			total++
			if c.Name == "" || seen[c.Name] {
				t.Errorf("%s: case name %q is empty or repeated", file, c.Name)
			}
			seen[c.Name] = true
			t.Run(filepath.Base(file)+"/"+c.Name, func(t *testing.T) {
				in, err := c.input()
				if err != nil {
					t.Fatalf("%s: case %q: %v", file, c.Name, err)
				}
				d := p.Evaluate(in)
				code := ""
				if len(d.Reasons) > 0 {
					code = d.Reasons[0].Code
				}
				got, want := strings.Join(d.Rules, ","), strings.Join(c.Rules, ",")
				if d.Effect != c.Effect || got != want || code != c.Code || (d.Err != nil) != (c.Code == CodeError) {
					t.Errorf("%s: case %q: Evaluate = %s rules [%s] code %s (err %v), want %s rules [%s] code %s",
						file, c.Name, d.Effect, got, code, d.Err, c.Effect, want, c.Code)
				}
			})
		}
	}
	if total < 200 {
		t.Errorf("corpus has %d cases, want at least 200", total)
	}
}

// loadCorpusFile decodes a corpus file strictly and returns the policy
// document's bytes.
func loadCorpusFile(file string) (*corpusFile, []byte, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var cf corpusFile
	if err := dec.Decode(&cf); err != nil {
		return nil, nil, fmt.Errorf("decode: %w", err)
	}
	var doc []byte
	switch cf.Policy.Kind {
	case yaml.ScalarNode:
		doc = []byte(cf.Policy.Value)
	case yaml.MappingNode:
		if doc, err = yaml.Marshal(&cf.Policy); err != nil {
			return nil, nil, fmt.Errorf("re-encode policy: %w", err)
		}
	default:
		return nil, nil, fmt.Errorf("policy must be a mapping or a string")
	}
	for _, c := range cf.Cases {
		switch c.Effect {
		case Allow, Deny, RequireApproval:
		default:
			return nil, nil, fmt.Errorf("case %q: effect %q", c.Name, c.Effect)
		}
		switch c.Code {
		case CodeRule, CodeDefault, CodeScan, CodeError:
		default:
			return nil, nil, fmt.Errorf("case %q: code %q", c.Name, c.Code)
		}
	}
	return &cf, doc, nil
}

// input builds the evaluation input, with numbers as DecodeRequest gives
// them (int64 or float64).
func (c *corpusCase) input() (*Input, error) {
	r := &c.Request
	req := &Request{
		Principal: Principal{ID: r.Principal.ID, Type: r.Principal.Type},
		Action:    Action{Type: r.Action.Type, Resource: r.Action.Resource, Operation: r.Action.Operation},
		Context: Context{SessionID: r.Context.SessionID, TraceID: r.Context.TraceID,
			ParentReceiptID: r.Context.ParentReceiptID, Environment: r.Context.Environment},
	}
	var err error
	if r.Principal.Attributes != nil {
		if req.Principal.Attributes, err = normalizeMap(r.Principal.Attributes); err != nil {
			return nil, err
		}
	}
	if r.Args != nil {
		if req.Args, err = normalizeMap(r.Args); err != nil {
			return nil, err
		}
	}
	for _, g := range c.Generated {
		if req.Args == nil {
			req.Args = map[string]any{}
		}
		if g.Depth > 0 {
			leaf, err := normalize(g.Leaf)
			if err != nil {
				return nil, err
			}
			v := leaf
			for range g.Depth {
				v = map[string]any{"n": v}
			}
			req.Args[g.Key] = v
		} else {
			req.Args[g.Key] = strings.Repeat(g.Text, g.Count)
		}
	}
	in := &Input{Request: req, Findings: c.Findings, ScanIncomplete: c.ScanIncomplete}
	if c.Session != nil {
		if in.Session, err = normalizeMap(c.Session); err != nil {
			return nil, err
		}
	}
	return in, nil
}

func normalizeMap(m map[string]any) (map[string]any, error) {
	v, err := normalize(m)
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

func normalize(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case int:
		return int64(x), nil
	case nil, bool, string, float64, int64:
		return x, nil
	}
	return nil, fmt.Errorf("value %v of type %T cannot be in a request", v, v)
}
