package inject

import (
	"regexp"
	"strings"

	"github.com/wardenhq/warden/internal/scan"
)

// family groups rules that report the same kind of evidence; evidence of
// different families reinforces, a second rule of one family does not.
type family uint8

const (
	famOverride     family = iota // instruction override
	famSafety                     // disabling or lifting safety measures
	famMode                       // jailbreak modes
	famUnrestricted               // "no restrictions" personas
	famRole                       // role reassignment
	famSystem                     // fake system headers and claims
	famTranscript                 // fake conversation turns
	famDelimiter                  // fake end of input, hidden comments
	famAddressed                  // words addressed to the model inside data
	famLeak                       // asking for the prompt, secrets, tools
	famExfil                      // sending data out
	famTool                       // invoking or approving tools
	famMemory                     // writing to memory
	famPrivilege                  // claims of privilege
	famPersona                    // DAN, evil twins, grandma
	famFraming                    // fiction, hypotheticals, research
	famHarm                       // harmful requests
	famSmuggle                    // decode-and-follow, split payloads
	famStealth                    // do it silently
	famTrigger                    // sleeper conditions
	famHidden                     // invisible characters
	numFamilies
)

// Rule names: the Rule of a match names its strongest signal.
const (
	RuleOverride       = "instruction-override"
	RuleSafetyBypass   = "safety-bypass"
	RuleRole           = "role-impersonation"
	RuleSystem         = "system-impersonation"
	RuleTranscript     = "fake-transcript"
	RuleDelimiter      = "delimiter-injection"
	RuleAddressed      = "addressed-to-model"
	RuleLeak           = "prompt-leak"
	RuleExfil          = "exfiltration-instruction"
	RuleTool           = "tool-invocation"
	RuleMemory         = "memory-poisoning"
	RulePrivilege      = "privilege-claim"
	RuleStealth        = "stealth-instruction"
	RuleTrigger        = "sleeper-trigger"
	RuleHidden         = "hidden-characters"
	RuleEncoded        = "encoded-payload"
	RuleDAN            = "jailbreak-dan"
	RuleMode           = "jailbreak-mode"
	RuleUnrestricted   = "jailbreak-unrestricted"
	RuleHypothetical   = "jailbreak-hypothetical"
	RuleRoleplay       = "jailbreak-roleplay"
	RuleFraming        = "jailbreak-framing"
	RuleRefusal        = "jailbreak-refusal-suppression"
	RuleHarm           = "harmful-request"
	RuleTokenSmuggling = "token-smuggling"
)

// rule is one pattern of evidence. Its regular expression is tried where
// one of its start words begins a word of the view, anchored there.
type rule struct {
	name  string
	fam   family
	w     float64 // weight of the evidence, in logits
	start string  // alternation the match starts with; its leading words are the triggers
	rest  string  // the rest of the pattern; a space in start or rest stands for optional whitespace
	max   int     // bytes a match may span (0: 160)
	cross bool    // a match may run past the end of its sentence

	pre     func(v string, pos int) bool // context the start must have, or nil
	bonus   []bonus                      // evidence around the match that changes its weight
	upper   bool                         // the original text of the match is upper case (acronyms)
	neg     bool                         // a negation just before makes it advice, not an attack
	instr   bool                         // an instruction to the model: weighs more in outputs
	upgrade uint32                       // families whose presence nearby raises w to upTo
	upTo    float64
	// needs is an alternation of words of which a match must hold one
	// (its leading words, as for start): a cheap test that skips the
	// regular expression where it cannot match. Every needed word must
	// be one the pattern cannot match without.
	needs    string
	needs2   string // a second set, also needed
	near     int    // words after the start that must hold them (0: the whole window)
	needMask [2]mask

	re, reLeet *regexp.Regexp
	// first and firstLeet list the words a match can start with (nil:
	// any word that begins with a trigger).
	first, firstLeet map[string]bool
}

// bonus adds w when re matches the text from back bytes before the match
// to ahead bytes after it (0, 0: the match itself).
type bonus struct {
	src         string
	w           float64
	back, ahead int
	re          *regexp.Regexp
}

func (r *rule) category() string {
	switch r.fam {
	case famMode, famUnrestricted, famPersona, famFraming, famHarm, famSmuggle:
		return scan.Jailbreak
	}
	return scan.Injection
}

// pattern turns a rule source into a regular expression: a space is
// optional whitespace (so compact text matches too).
func pattern(src string) string { return strings.ReplaceAll(src, " ", `\s*`) }

// leetPattern folds the letters of a pattern the way Leet folds text:
// "l" becomes "i" (digits of quantifiers stay).
func leetPattern(src string) string {
	b := []byte(src)
	for i, c := range b {
		if c == 'l' && (i == 0 || b[i-1] != '\\') {
			b[i] = 'i'
		}
	}
	return string(b)
}

func (r *rule) compile() {
	// The start, with the inflection the rest may begin with, is a
	// group: it must end a word (see scanView).
	start, rest := r.start, r.rest
	for _, infl := range []string{`[a-z]*`, `[a-z-]*`, `s?`, `(?:s|ed|ing)?`} {
		if strings.HasPrefix(rest, infl) {
			start, rest = `(?:`+start+`)`+infl, rest[len(infl):]
		}
	}
	r.first = firstWords(pattern(`^(?:` + start + `)`))
	if r.first != nil {
		r.firstLeet = map[string]bool{}
		for w := range r.first {
			r.firstLeet[FoldLeet(w)] = true
		}
	}
	src := pattern(`^((?:` + start + `))(?:` + rest + `)`)
	r.re = regexp.MustCompile(src)
	r.reLeet = regexp.MustCompile(leetPattern(src))
	if r.max == 0 {
		r.max = 160
	}
	for i := range r.bonus {
		r.bonus[i].re = regexp.MustCompile(pattern(r.bonus[i].src))
	}
}

// leads returns the literal words an alternation can start with. A
// pattern whose alternatives do not each start with a literal, or with a
// group of such alternatives, is a programming error.
func leads(p string) []string {
	var out []string
	for _, alt := range splitTop(p) {
		if strings.HasPrefix(alt, "(?:") {
			end := closing(alt)
			if end+1 < len(alt) && strings.ContainsRune("?*", rune(alt[end+1])) {
				panic("inject: pattern " + p + " starts with an optional group")
			}
			out = append(out, leads(alt[3:end])...)
			continue
		}
		i := 0
		for i < len(alt) && symbol(alt[i]) >= 0 {
			i++
		}
		if i < len(alt) && strings.IndexByte("?*{", alt[i]) >= 0 {
			i-- // the last letter is optional
		}
		if i <= 0 {
			panic("inject: alternative " + alt + " does not start with a literal")
		}
		out = append(out, alt[:i])
	}
	return out
}

// splitTop splits p at the | outside groups and classes.
func splitTop(p string) []string {
	var out []string
	depth, class, last := 0, false, 0
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\':
			i++
		case class:
			class = c != ']'
		case c == '[':
			class = true
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == '|' && depth == 0:
			out = append(out, p[last:i])
			last = i + 1
		}
	}
	return append(out, p[last:])
}

// closing returns the index of the parenthesis closing the one at p[0].
func closing(p string) int {
	depth, class := 0, false
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\':
			i++
		case class:
			class = c != ']'
		case c == '[':
			class = true
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	panic("inject: unbalanced pattern " + p)
}

// ruleSet is the compiled rules with their trigger automata (one for
// Text, one for Leet, whose words are leet-folded).
type ruleSet struct {
	rules       []*rule
	plain, leet *trigger
}

func newRuleSet(rs []*rule) *ruleSet {
	s := &ruleSet{rules: rs, plain: newTrigger(), leet: newTrigger()}
	classes := map[string]int{}
	for i, r := range rs {
		r.compile()
		for _, w := range leads(r.start) {
			s.plain.add(w, i, r.first)
			s.leet.add(FoldLeet(w), i, r.firstLeet)
		}
		for k, needs := range []string{r.needs, r.needs2} {
			if needs == "" {
				continue
			}
			// "@" among the needs stands for an e-mail address, "_" for
			// an identifier (read_secret): words joined by them.
			var words []string
			for _, alt := range splitTop(needs) {
				switch alt {
				case "_":
					r.needMask[k].set(snakeClass)
				case "@":
					r.needMask[k].set(atClass)
				default:
					words = append(words, alt)
				}
			}
			if len(words) == 0 {
				continue
			}
			key := strings.Join(words, "|")
			b, ok := classes[key]
			if !ok {
				b = len(classes) + 2 // 0 and 1 are snakeClass and atClass
				if b >= 128 {
					panic("inject: more than 126 needed-word classes")
				}
				classes[key] = b
				for _, w := range leads(key) {
					s.plain.need(w, b)
					s.leet.need(FoldLeet(w), b)
				}
			}
			r.needMask[k].set(b)
		}
	}
	s.plain.build()
	s.leet.build()
	return s
}
