package inject

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Evidence that is not a phrase: the shape of a conversation, hidden
// markup, invisible characters, other scripts.

var (
	aiRoles   = wordSet(`assistant ai bot chatbot model gpt chatgpt claude gemini llm copilot agent`)
	userRoles = wordSet(`user human`)
)

// transcript looks for lines that start a turn of a conversation
// ("User:", "Assistant:"): text that carries both a user's and a
// model's turns forges a conversation the model may continue. The
// match is the last model turn's label.
func (c *call) transcript() {
	v := c.n.Text
	users, ais, lastAI := 0, 0, -1
	for i := 0; i < len(v); {
		j := i
		for j < len(v) && strings.IndexByte(" \t*->#`", v[j]) >= 0 {
			j++
		}
		k := j
		for k < len(v) && v[k] >= 'a' && v[k] <= 'z' {
			k++
		}
		l := k
		for l < len(v) && v[l] == ' ' {
			l++
		}
		if k > j && l < len(v) && v[l] == ':' {
			switch w := v[j:k]; {
			case userRoles[w]:
				users++
			case aiRoles[w]:
				ais++
				lastAI = j
			}
		}
		n := strings.IndexByte(v[i:], '\n')
		if n < 0 {
			break
		}
		i += n + 1
	}
	if users == 0 || ais == 0 {
		return
	}
	e := lastAI
	for e < len(v) && v[e] != ':' {
		e++
	}
	s, end := c.n.Span(lastAI, e+1)
	// Not an instruction in itself (chat logs are ordinary tool output):
	// it weighs the same everywhere and supports what it carries.
	w := 2.2 + 0.3*float64(min(3, users+ais-2))
	c.hits = append(c.hits, hit{name: RuleTranscript, fam: famTranscript, base: 2.2, w: w + contextWeight(v, lastAI, e+1, &rule{fam: famTranscript}), start: s, end: end})
}

var commentCue = regexp.MustCompile(`\b(?:ignore|disregard|forget|assistant|ai|llm|model|agent|chatbot|gpt|claude|system prompt|reveal|exfiltrate|note to|override|secret|password|api key|credentials)\b`)

// hiddenComments finds HTML comments (closed within 400 bytes) that
// speak to the model: a reader of the rendered page never sees them, a
// model reading the source does.
func (c *call) hiddenComments() {
	v := c.n.Text
	for i := 0; ; {
		k := strings.Index(v[i:], "<!--")
		if k < 0 {
			return
		}
		s := i + k
		body := v[s+4 : min(len(v), s+4+400)]
		end := strings.Index(body, "-->")
		if end >= 0 && commentCue.MatchString(body[:end]) {
			e := s + 4 + end + 3
			os, oe := c.n.Span(s, e)
			// A container, not an instruction: it supports what it holds.
			c.hits = append(c.hits, hit{name: RuleDelimiter, fam: famDelimiter, base: 2.0, w: 2.0, start: os, end: oe, instr: true})
		}
		i = s + 4
	}
}

// hiddenChars reports invisible characters between letters and
// bidirectional controls: harmless text rarely needs them.
func (c *call) hiddenChars() {
	ob := c.n.Obfuscation
	if ob.ZeroWidth < 3 && ob.Bidi == 0 {
		return
	}
	if s, e, ok := c.n.HiddenSpan(); ok {
		c.hits = append(c.hits, hit{name: RuleHidden, fam: famHidden, base: 2.4, w: 2.4, start: s, end: e})
	}
}

// Scripts without spaces between words, or whose words the trigger
// automaton cannot see, get patterns of their own: a verb of ignoring
// near a word for instructions or rules, either order, and a request for
// the system prompt. A pattern runs only around an occurrence of one of
// its verbs, so text of these scripts without them costs a substring
// search per verb.
type mlRule struct {
	name  string
	fam   family
	w     float64
	verbs []string
	re    *regexp.Regexp
}

var multilingualRules = []mlRule{
	newML(RuleOverride, famOverride, 4.2,
		`игнорир|проигнорир|не обращай|забудь|отбрось|忽略|无视|無視|忘记|忘掉|忘れ|تجاهل|أهمل|اهمل|انس|अनदेखा|नज़रअंदाज़|नजरअंदाज|भूल जा|התעלם|שכח|무시|잊어|bỏ qua|görmezden|unut`,
		`инструкци|правил|указани|ограничени|директив|指令|指示|说明|規則|规则|ルール|制限|限制|安全|命令|تعليمات|التعليمات|القواعد|قواعد|القيود|निर्देश|नियम|प्रतिबंध|הוראות|כללים|지시|규칙|제한|hướng dẫn|talimat|kural`),
	newML(RuleLeak, famLeak, 3.6,
		`выведи|выведите|покажи|покажите|раскрой|раскройте|напечатай|表示|显示|顯示|输出|輸出|打印|告诉|見せ|教え|اعرض|أظهر|اكشف|اطبع|दिखा|बता|प्रदर्शित|הצג|보여|출력|hiển thị|göster`,
		`системн\S* (?:промпт|подсказк|инструкци|сообщени)|システムプロンプト|系统提示|系統提示|系统指令|系統指令|المطالبة النظامية|موجه النظام|تعليمات النظام|सिस्टम प्रॉम्प्ट|सिस्टम निर्देश|הנחיות המערכת|시스템 프롬프트|lời nhắc hệ thống|sistem istemi`),
}

func newML(name string, fam family, w float64, verb, object string) mlRule {
	gap := `[^.!?\n。！？]{0,40}?`
	return mlRule{name: name, fam: fam, w: w, verbs: strings.Split(verb, "|"),
		re: regexp.MustCompile(`(?:` + verb + `)` + gap + `(?:` + object + `)|(?:` + object + `)` + gap + `(?:` + verb + `)`)}
}

// mlWindow is how far either side of a verb a pattern looks (40
// characters of up to four bytes, and the object).
const mlWindow = 240

// multilingual runs the patterns around their verbs (Text has letters
// of another script, so it has been through normalization).
func (c *call) multilingual() {
	v := c.n.Text
	for _, m := range multilingualRules {
		done := 0 // matches end before here
		for _, verb := range m.verbs {
			for i := 0; ; {
				k := strings.Index(v[i:], verb)
				if k < 0 {
					break
				}
				p := i + k
				i = p + len(verb)
				lo, hi := max(0, p-mlWindow), min(len(v), p+len(verb)+mlWindow)
				for lo > 0 && !utf8.RuneStart(v[lo]) {
					lo--
				}
				for hi < len(v) && !utf8.RuneStart(v[hi]) {
					hi++
				}
				loc := m.re.FindStringIndex(v[lo:hi])
				if loc == nil || lo+loc[1] <= done {
					continue
				}
				s0, e0 := lo+loc[0], lo+loc[1]
				done = e0
				s, e := c.n.Span(s0, e0)
				c.hits = append(c.hits, hit{name: m.name, fam: m.fam, base: m.w, w: m.w + contextWeight(v, s0, e0, &rule{fam: m.fam, neg: true}), start: s, end: e, instr: true})
			}
		}
	}
}
