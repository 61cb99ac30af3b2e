package scan

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strconv"
)

// Placeholder is the text that replaces a redacted value of a category.
func Placeholder(category string) string { return "[REDACTED:" + category + "]" }

// Redaction records one removed value: what it was and where, and a keyed
// HMAC-SHA256 of it (base64), which lets a holder of the key match a value
// they already know without the record revealing it. Never a plain hash:
// a low-entropy value (a card number, an SSN) would be guessed from one.
type Redaction struct {
	Category string `json:"category"`
	Rule     string `json:"rule"`
	Path     string `json:"path"`
	InKey    bool   `json:"in_key,omitempty"`
	HMAC     string `json:"hmac"`
}

// ValueHMAC is the keyed digest recorded for a redacted value.
func ValueHMAC(key []byte, value string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(value))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// RedactText replaces the spans of fs (findings in text) with
// placeholders. Overlapping or touching spans become one, named by the
// category of its most severe finding.
func RedactText(text string, fs []Finding) string {
	if len(fs) == 0 {
		return text
	}
	spans := slices.Clone(fs)
	slices.SortFunc(spans, func(a, b Finding) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return b.End - a.End
	})
	out := make([]byte, 0, len(text))
	pos := 0
	for i := 0; i < len(spans); {
		start, end, cat, rank := spans[i].Start, spans[i].End, spans[i].Category, SeverityRank(spans[i].Severity)
		j := i + 1
		for ; j < len(spans) && spans[j].Start <= end; j++ {
			end = max(end, spans[j].End)
			if r := SeverityRank(spans[j].Severity); r > rank {
				cat, rank = spans[j].Category, r
			}
		}
		if start < pos || end > len(text) {
			// Findings of another string: nothing sensible to cut; keep
			// nothing of it rather than leak.
			return Placeholder(cat)
		}
		out = append(out, text[pos:start]...)
		out = append(out, Placeholder(cat)...)
		pos, i = end, j
	}
	out = append(out, text[pos:]...)
	return string(out)
}

type spot struct {
	path  string
	inKey bool
}

// Redact returns a copy of v, the value scanned under root, with every
// finding that pick selects (all when pick is nil) replaced by its
// placeholder, and a Redaction for each such finding, in the order of
// findings. A redacted object key that collides with another key gets a
// "#n" suffix. v itself is not changed.
func Redact(v any, root string, findings []Finding, key []byte, pick func(Finding) bool) (any, []Redaction) {
	by := map[spot][]Finding{}
	for _, f := range findings {
		if pick == nil || pick(f) {
			s := spot{f.Path, f.InKey}
			by[s] = append(by[s], f)
		}
	}
	if len(by) == 0 {
		return v, nil
	}
	var recs []Redaction
	record := func(text string, fs []Finding) {
		for _, f := range fs {
			val := ""
			if f.Start >= 0 && f.End <= len(text) && f.Start < f.End {
				val = text[f.Start:f.End]
			}
			recs = append(recs, Redaction{Category: f.Category, Rule: f.Rule, Path: f.Path, InKey: f.InKey, HMAC: ValueHMAC(key, val)})
		}
	}
	var walk func(v any, path string) any
	walk = func(v any, path string) any {
		switch x := v.(type) {
		case string:
			if fs := by[spot{path, false}]; fs != nil {
				record(x, fs)
				return RedactText(x, fs)
			}
			return x
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			out := make(map[string]any, len(x))
			for _, k := range keys {
				p := path + "/" + EscapePointer(k)
				nk := k
				if fs := by[spot{p, true}]; fs != nil {
					record(k, fs)
					nk = RedactText(k, fs)
					if taken(x, out, nk) {
						for n := 2; ; n++ {
							c := nk + "#" + strconv.Itoa(n)
							if !taken(x, out, c) {
								nk = c
								break
							}
						}
					}
				}
				out[nk] = walk(x[k], p)
			}
			return out
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = walk(e, path+"/"+itoa(i))
			}
			return out
		}
		return v
	}
	return walk(v, root), recs
}

func taken(src, dst map[string]any, k string) bool {
	_, a := src[k]
	_, b := dst[k]
	return a || b
}
