package unsafe

// Word classes for reading instructions in natural language. Words are
// ASCII, lower-cased, split at non-letters and at camelCase humps
// ("systemPrompt" is "system", "prompt").
const (
	wSend    uint64 = 1 << iota // moves data somewhere: send, forward, upload, post…
	wModel                      // what only the model holds: conversation, transcript
	wPrompt                     // prompt, instructions, context: the model's when qualified
	wQualM                      // qualifies a prompt as the model's: system, hidden, your…
	wSecret                     // credentials and their kin
	wSecretS                    // singular secret: weak alone ("your API key" in docs)
	wData                       // user data in bulk: emails, files, records
	wQuant                      // all, every, entire
	wDest                       // an abstract destination: external server, webhook
	wMeta                       // talk about text rather than an order: example, phrase
	wNeg                        // negation or defence before a verb
	wEmit                       // produces output: include, respond, spell, encode
	wUnit                       // letter, character, word
	wSel                        // position, each, first
	wStego                      // invisible, zero-width, whitespace, binary, font colour
	wGeneric                    // generic data in a placeholder: data, content, output
	wYour                       // your, my: a documentation placeholder's owner
	wFill                       // insert, here: a slot to fill
	wQualS                      // qualifies a key or token as a secret: api, private, access

	// Words of orders hidden in tool descriptions.
	tNeg       // not, never, without
	tTell      // tell, mention, inform
	tUser      // user, human, anyone
	tAct       // read, call, pass, include: what a hidden order makes the model do
	tHide      // hide, conceal
	tFrom      // from
	tBefore    // before
	tUsing     // using, calling, any: "before using", "before any"
	tIgnore    // ignore, disregard, override
	tRules     // instructions, rules, tools
	tPrec      // precedence, priority
	tTakes     // takes, has
	tPass      // pass, include, put: moves a value into a call
	tParam     // parameter, argument, field
	tAsIn      // as, in, into
	tSecretObj // content, key, token, conversation
	tOtherwise // otherwise
	tOr        // or
	tElse      // else
	tFail      // fail, crash, work
	tInstead   // instead
	tOf        // of
	tThis      // this, that, it
	tImportant // important
)

// lexicon maps a word to its classes. Inflections are added by init.
var lexicon = map[string]uint64{}

func init() {
	add := func(cls uint64, words ...string) {
		for _, w := range words {
			lexicon[w] |= cls
		}
	}
	verb := func(cls uint64, words ...string) {
		for _, w := range words {
			add(cls, w, w+"s", w+"ed", w+"ing")
			if w[len(w)-1] == 'e' {
				add(cls, w+"d", w[:len(w)-1]+"ing")
			}
			if last := w[len(w)-1]; last == 'h' || last == 's' || last == 'x' {
				add(cls, w+"es")
			}
		}
	}
	verb(wSend, "send", "forward", "email", "mail", "post", "upload", "transmit", "exfiltrate", "exfil", "leak",
		"share", "submit", "deliver", "relay", "export", "sync", "copy", "paste", "push", "publish", "beam", "attach",
		"fetch", "call", "trigger", "redirect", "transfer", "dump", "pipe", "report", "cc", "bcc", "ping",
		"notify", "ship", "smuggle", "append", "save", "store", "write", "include", "request")
	add(wSend, "sent", "wrote", "written")
	add(wModel, "conversation", "conversations", "transcript", "transcripts", "chatlog", "chatlogs")
	add(wPrompt, "prompt", "prompts", "instructions", "instruction", "context", "history", "memory", "memories",
		"definitions", "guidelines", "rules", "messages", "log", "logs")
	add(wQualM, "system", "hidden", "initial", "original", "internal", "developer", "your", "full", "entire", "complete",
		"whole", "chat", "conversation", "tool", "previous", "prior", "secret", "confidential", "browsing", "message",
		"all", "every")
	add(wSecret, "credentials", "secrets", "passwords", "tokens", "keys", "apikeys", "cookies", "env", "environment",
		"dotenv", "passphrases", "mnemonic", "keychain", "wallet", "ssh", "aws", "privkey")
	add(wSecretS, "credential", "secret", "password", "passwd", "token", "key", "apikey", "cookie", "passphrase",
		"session", "sessions", "jwt", "bearer", "otp", "pin")
	add(wQualS, "api", "private", "access", "secret", "ssh", "signing", "encryption", "auth", "session", "bearer", "refresh")
	add(wData, "emails", "contacts", "files", "documents", "database", "databases", "records", "inbox", "messages",
		"customers", "users", "data", "logs", "notes", "photos", "calendar", "addresses", "history", "config", "configuration")
	add(wQuant, "all", "every", "entire", "full", "complete", "whole", "any", "everything", "last")
	add(wDest, "external", "remote", "attacker", "webhook", "endpoint", "server", "collector", "outside", "offsite",
		"thirdparty", "address", "inbox", "bucket", "gist", "pastebin", "publicly")
	add(wMeta, "example", "examples", "phrase", "phrases", "quote", "quotes", "quoted", "quoting", "sample", "samples",
		"fixture", "fixtures", "paraphrase", "paraphrases", "detector", "detectors", "classify", "recognize", "annotate",
		"benchmark", "training", "pattern", "patterns", "literal", "explain", "explains", "why", "how", "what",
		"understand", "flagged", "detected", "warning", "warns", "attack", "attacks", "malicious", "suspicious")
	add(wNeg, "not", "never", "don", "doesn", "shouldn", "mustn", "won", "cannot", "without", "avoid", "avoids",
		"prevent", "prevents", "preventing", "block", "blocks", "blocked", "blocking", "refuse", "refuses", "refused",
		"stop", "protect", "protects", "forbid", "forbids", "forbidden", "deny", "denies", "denied", "no")
	verb(wEmit, "include", "respond", "reply", "spell", "encode", "embed", "append", "insert", "hide", "put", "write",
		"use", "format", "create", "make", "add", "answer", "output", "end", "start", "begin", "hint", "signal")
	add(wUnit, "letter", "letters", "character", "characters", "char", "chars", "word", "words", "digit", "digits",
		"byte", "bytes", "symbol", "symbols")
	add(wSel, "position", "positions", "each", "every", "first", "nth", "index", "order", "sequence")
	add(wStego, "invisible", "zero", "width", "whitespace", "spaces", "font", "color", "colour", "colors", "colours",
		"binary", "steganography", "steganographic", "acrostic", "morse", "unicode", "joiner", "joiners", "emoji",
		"homoglyph", "homoglyphs", "punctuation", "capitalization", "capitalisation")
	add(wGeneric, "data", "content", "contents", "info", "information", "text", "payload", "result", "results", "summary",
		"response", "answer", "output", "reply", "body", "value", "values", "details", "dump")
	add(wYour, "your", "my", "yours")
	add(wFill, "insert", "here", "paste", "fill", "placeholder")

	add(tNeg, "not", "never", "without", "don", "dont", "avoid")
	add(tTell, "tell", "mention", "inform", "notify", "reveal", "show", "alert", "disclose", "explain", "ask", "let",
		"warn", "say", "report", "display")
	add(tUser, "user", "users", "human", "humans", "them", "anyone", "operator", "person", "people", "customer")
	add(tAct, "read", "call", "send", "pass", "include", "fetch", "get", "run", "execute", "provide", "attach",
		"upload", "copy", "invoke", "use", "open", "cat", "load", "collect", "add", "append", "forward")
	add(tHide, "hide", "conceal")
	add(tFrom, "from")
	add(tBefore, "before")
	add(tUsing, "using", "calling", "invoking", "running", "executing", "any", "each", "every")
	add(tIgnore, "ignore", "disregard", "override")
	add(tRules, "instructions", "instruction", "rules", "guidelines", "prompt", "tools", "tool", "directions")
	add(tPrec, "precedence", "priority")
	add(tTakes, "takes", "take", "has", "have", "highest", "top")
	add(tPass, "pass", "include", "put", "provide", "append", "insert", "attach", "embed", "fill")
	add(tParam, "parameter", "parameters", "param", "argument", "arguments", "field", "sidenote")
	add(tAsIn, "as", "in", "into")
	add(tSecretObj, "content", "contents", "key", "keys", "token", "tokens", "credentials", "password", "passwords",
		"secret", "secrets", "conversation", "history", "prompt")
	add(tOtherwise, "otherwise")
	add(tOr, "or")
	add(tElse, "else")
	add(tFail, "fail", "fails", "crash", "break", "error", "work")
	add(tInstead, "instead")
	add(tOf, "of")
	add(tThis, "this", "that", "it")
	add(tImportant, "important")

	for w := range lexicon {
		lexBloom.add(w)
	}
	n := 1
	for n < 4*len(lexicon) {
		n <<= 1
	}
	lexTable = make([]lexEntry, n)
	for w, cls := range lexicon {
		h := wordHash(w)
		i := h & uint64(n-1)
		for lexTable[i].word != "" {
			i = (i + 1) & uint64(n-1)
		}
		lexTable[i] = lexEntry{hash: h, word: w, cls: cls}
	}
}

// lexBloom has a bit for each (first letter, second letter, length) of a
// lexicon word: most words of a text are rejected by one bit test,
// before their hash is computed.
var lexBloom bloom

type bloom [26 * 26 * 32 / 64]uint64

func bloomKey(a, b byte, n int) int { return (int(a|0x20-'a')*26+int(b|0x20-'a'))*32 + n }

func (f *bloom) add(w string) {
	if n := len(w); n >= 2 && n < 32 {
		k := bloomKey(w[0], w[1], n)
		f[k>>6] |= 1 << (k & 63)
	}
}

// mayHave reports whether the letters s[i:j] may be a lexicon word.
func (f *bloom) mayHave(s string, i, j int) bool {
	n := j - i
	if n < 2 || n >= 32 {
		return false
	}
	k := bloomKey(s[i], s[i+1], n)
	return f[k>>6]&(1<<(k&63)) != 0
}

// The lexicon is also kept as an open-addressing table keyed by a hash
// of the lower-cased word, computed while the word is read: a lookup
// costs no copy and no allocation.
type lexEntry struct {
	hash uint64
	word string
	cls  uint64
}

var lexTable []lexEntry

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func wordHash(w string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(w); i++ {
		h = (h ^ uint64(lower(w[i]))) * fnvPrime
	}
	return h
}

// lookup returns the classes of the word s[i:j] whose hash is h.
func lookup(s string, i, j int, h uint64) uint64 {
	mask := uint64(len(lexTable) - 1)
	for k := h & mask; ; k = (k + 1) & mask {
		e := &lexTable[k]
		if e.word == "" {
			return 0
		}
		if e.hash == h && len(e.word) == j-i && hasPrefixFold(s, i, e.word) {
			return e.cls
		}
	}
}

// classAt returns the classes of the letters s[i:j].
func classAt(s string, i, j int) uint64 {
	if !lexBloom.mayHave(s, i, j) {
		return 0
	}
	h := uint64(fnvOffset)
	for k := i; k < j; k++ {
		h = (h ^ uint64(s[k]|0x20)) * fnvPrime
	}
	return lookup(s, i, j, h)
}

// forWords calls fn for each word of s: ASCII letter runs split at
// camelCase humps, with their classes.
func forWords(s string, fn func(start, end int, cls uint64)) {
	for i := 0; i < len(s); {
		if !isLetter(s[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(s) && isLetter(s[j]) && !(s[j] <= 'Z' && s[j-1] >= 'a') {
			j++
		}
		fn(i, j, classAt(s, i, j))
		i = j
	}
}
