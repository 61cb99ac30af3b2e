// Package scan finds what must not pass unseen in an agent's arguments and
// in its tools' outputs: prompt injection and jailbreaks, unsafe input,
// personal data, secrets, exfiltration and tool poisoning (DESIGN.md
// section 6). It is pure and bounded: a scan reads no file and no network,
// and stops at a size and a time limit, saying so (Incomplete) rather than
// answering for what it did not read.
package scan

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Severities, lowest first.
const (
	Low      = "low"
	Medium   = "medium"
	High     = "high"
	Critical = "critical"
)

// SeverityRank orders severities: 1 (low) to 4 (critical), 0 unknown.
func SeverityRank(s string) int {
	switch s {
	case Low:
		return 1
	case Medium:
		return 2
	case High:
		return 3
	case Critical:
		return 4
	}
	return 0
}

// Categories of findings (secrets and PII carry a sub-category:
// "secret.aws-access-token", "pii.email").
const (
	Injection     = "injection"
	Jailbreak     = "jailbreak"
	UnsafeInput   = "unsafe_input"
	Exfiltration  = "exfiltration"
	ToolPoisoning = "tool_poisoning"
	PIIPrefix     = "pii."
	SecretPrefix  = "secret."
)

// Provenance says where scanned text comes from; detectors weigh what
// they see by it (instructions inside a tool's output are an indirect
// injection, the same words in a user's request may be a task).
type Provenance int

// Provenances.
const (
	Argument        Provenance = iota // a tool call's arguments, written by the agent
	Output                            // a tool's output, read by the agent
	ToolDescription                   // a tool's name, description or schema
)

// Match is what a detector found in one string: a span of it.
type Match struct {
	Category   string
	Rule       string
	Severity   string
	Confidence float64 // 0..1
	Start, End int     // byte offsets into the string, on UTF-8 boundaries
}

// Input is one string a detector reads.
type Input struct {
	Text       string
	Provenance Provenance
	InKey      bool // the string is an object key
	// Key is the name of the object member whose value the string is
	// ("password" for {"password": "…"}); empty for keys, array elements
	// and text. It lets a detector read a member as an assignment.
	Key string
}

// Detector finds matches in one string. Detect appends to out and returns
// it. It MUST be safe for concurrent use, MUST NOT keep the text, and its
// cost MUST be at most linear in the text's length. The same input MUST
// give the same matches (a scan reuses them for a string seen again).
type Detector interface {
	Name() string
	Detect(in Input, out []Match) []Match
}

// Finding is a match placed in the scanned value.
type Finding struct {
	Category   string  `json:"category"`
	Rule       string  `json:"rule"`
	Severity   string  `json:"severity"`
	Confidence float64 `json:"confidence"`
	// Path is the RFC 6901 JSON Pointer of the string in the scanned
	// value under the scan's root ("/args/note"); the root alone for text.
	Path  string `json:"path"`
	Start int    `json:"start"`
	End   int    `json:"end"`
	InKey bool   `json:"in_key,omitempty"`
}

// Result is the outcome of a scan.
type Result struct {
	Findings []Finding `json:"findings"`
	// Incomplete is set when a limit stopped the scan before every
	// detector read every string; the policy's on_incomplete decides.
	Incomplete bool   `json:"incomplete"`
	Why        string `json:"why,omitempty"`
}

// Limits bound one scan.
type Limits struct {
	// MaxBytes bounds the text read, keys included.
	MaxBytes int
	// MaxStrings bounds the strings read (a value of a million tiny
	// strings is as costly as a large one).
	MaxStrings int
	// Timeout bounds the scan's wall time.
	Timeout time.Duration
}

// Default limits.
const (
	DefaultMaxBytes   = 1 << 20
	DefaultMaxStrings = 100_000
	DefaultTimeout    = 50 * time.Millisecond
)

// Scanner runs detectors over text and JSON values within limits.
type Scanner struct {
	detectors []Detector
	limits    Limits
	now       func() time.Time
}

// New returns a Scanner with the given detectors. Zero limits take the
// defaults.
func New(limits Limits, detectors ...Detector) *Scanner {
	if limits.MaxBytes <= 0 {
		limits.MaxBytes = DefaultMaxBytes
	}
	if limits.MaxStrings <= 0 {
		limits.MaxStrings = DefaultMaxStrings
	}
	if limits.Timeout <= 0 {
		limits.Timeout = DefaultTimeout
	}
	return &Scanner{detectors: detectors, limits: limits, now: time.Now}
}

// Detectors returns the names of the scanner's detectors.
func (s *Scanner) Detectors() []string {
	out := make([]string, len(s.detectors))
	for i, d := range s.detectors {
		out[i] = d.Name()
	}
	return out
}

// run is one scan's state.
type run struct {
	s        *Scanner
	ctx      context.Context
	deadline time.Time
	prov     Provenance
	bytes    int
	strings  int
	res      Result
	buf      []Match
	// memo holds the matches of short strings already scanned in this
	// run: keys and values repeat in every element of an array of
	// records, and detectors answer the same input the same way.
	memo map[Input][]Match
}

// memoMax is the longest string (and member name) a run remembers.
const memoMax = 64

func (s *Scanner) start(ctx context.Context, prov Provenance) *run {
	return &run{s: s, ctx: ctx, deadline: s.now().Add(s.limits.Timeout), prov: prov}
}

// stop marks the scan incomplete; it reports whether the scan must end.
func (r *run) stop(why string) bool {
	if !r.res.Incomplete {
		r.res.Incomplete, r.res.Why = true, why
	}
	return true
}

// scanString runs every detector over one string; false ends the scan.
func (r *run) scanString(text, path string, inKey bool, member string) bool {
	r.strings++
	r.bytes += len(text)
	switch {
	case r.strings > r.s.limits.MaxStrings:
		return !r.stop("more strings than the scan limit")
	case r.bytes > r.s.limits.MaxBytes:
		return !r.stop("more text than the scan limit")
	case r.ctx.Err() != nil:
		return !r.stop("the scan was cancelled")
	}
	if text == "" {
		return true
	}
	in := Input{Text: text, Provenance: r.prov, InKey: inKey, Key: member}
	short := len(text) <= memoMax && len(member) <= memoMax
	if short {
		if ms, ok := r.memo[in]; ok {
			r.record(ms, path, inKey)
			return true
		}
	}
	// The clock is read once per string, and between detectors only for
	// long strings: on many short strings reading it costs more than the
	// detectors.
	big := len(text) >= 8<<10
	if r.s.now().After(r.deadline) {
		return !r.stop("the scan ran out of time")
	}
	r.buf = r.buf[:0]
	for i, d := range r.s.detectors {
		if big && i > 0 && r.s.now().After(r.deadline) {
			return !r.stop("the scan ran out of time")
		}
		n := len(r.buf)
		r.buf = d.Detect(in, r.buf)
		for _, m := range r.buf[n:] {
			if m.Start < 0 || m.End > len(text) || m.Start >= m.End ||
				!utf8.RuneStart(text[m.Start]) || (m.End < len(text) && !utf8.RuneStart(text[m.End])) {
				// A detector's bad span is a bug; the scan cannot place it,
				// so it does not pretend to be complete.
				return !r.stop("detector " + d.Name() + " reported a span outside the text")
			}
		}
	}
	r.record(r.buf, path, inKey)
	if short {
		if r.memo == nil {
			r.memo = make(map[Input][]Match)
		}
		r.memo[in] = slices.Clone(r.buf)
	}
	return true
}

// record adds the matches of the string at path to the findings.
func (r *run) record(ms []Match, path string, inKey bool) {
	for _, m := range ms {
		r.res.Findings = append(r.res.Findings, Finding{Category: m.Category, Rule: m.Rule, Severity: m.Severity,
			Confidence: m.Confidence, Path: path, Start: m.Start, End: m.End, InKey: inKey})
	}
}

// ScanText scans one string; root is the path its findings carry.
func (s *Scanner) ScanText(ctx context.Context, text, root string, prov Provenance) Result {
	r := s.start(ctx, prov)
	r.scanString(text, root, false, "")
	return r.finish()
}

// ScanValue scans every string of a JSON value (as decoded into
// map[string]any, []any, string, numbers, bools and nil), object keys
// included, in a stable order. root is the JSON Pointer of the value
// ("/args"); findings carry the pointer of their string under it.
func (s *Scanner) ScanValue(ctx context.Context, v any, root string, prov Provenance) Result {
	r := s.start(ctx, prov)
	r.walk(v, root, 0, "")
	return r.finish()
}

// MaxDepth bounds the nesting a scan follows.
const MaxDepth = 64

func (r *run) walk(v any, path string, depth int, member string) bool {
	if depth > MaxDepth {
		return !r.stop("the value is nested deeper than the scan limit")
	}
	switch x := v.(type) {
	case string:
		return r.scanString(x, path, false, member)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := path + "/" + EscapePointer(k)
			if !r.scanString(k, p, true, "") || !r.walk(x[k], p, depth+1, k) {
				return false
			}
		}
	case []any:
		for i, e := range x {
			if !r.walk(e, path+"/"+itoa(i), depth+1, "") {
				return false
			}
		}
	}
	return true
}

func (r *run) finish() Result {
	f := r.res.Findings
	slices.SortStableFunc(f, func(a, b Finding) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		if a.InKey != b.InKey {
			if a.InKey {
				return -1
			}
			return 1
		}
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return SeverityRank(b.Severity) - SeverityRank(a.Severity)
	})
	return r.res
}

// EscapePointer escapes one JSON Pointer reference token (RFC 6901).
func EscapePointer(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	var b [20]byte
	n := len(b)
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	return string(b[n:])
}
