// Package inject detects prompt injection and jailbreaks in text an agent
// writes or reads (DESIGN.md section 6): scan.Argument text is the
// agent's own call, scan.Output and scan.ToolDescription text is what it
// reads, where instructions to the model are an indirect injection.
//
// # Normalization
//
// Text is normalized first (Normalize, reusable on its own): invisible
// characters (zero-width, bidirectional controls, soft hyphens) are
// removed and counted, Unicode tag characters (ASCII written invisibly)
// decoded, compatibility forms folded (NFKD: fullwidth, mathematical
// alphanumerics, ligatures), marks dropped from Latin letters, look-alike
// letters of Cyrillic, Greek, Armenian and Cherokee folded to ASCII in
// words that mix them with Latin letters (a Russian word among Russian
// words stays), case folded, spaced-out letters ("i g n o r e",
// "i.g.n.o.r.e") and fixed-width chunks ("igno rea llp") joined. Two
// views share the folded text's offsets byte for byte: leetspeak read as
// letters (Normalized.Leet) and rot13 (Normalized.Rot13, only for the
// clauses that read as English after rotation). Payloads encoded as
// base64, hex bytes, URL escapes, HTML entities or \u and \x escapes are
// decoded and analyzed as texts of their own, two levels deep by default
// (Options.MaxDecodeDepth). Every match maps back to original byte
// offsets on UTF-8 boundaries; evidence found in a decoded payload (or in
// the rot13 view) is reported on the encoded segment, rule
// "encoded-payload".
//
// # Evidence
//
// Rules are RE2 patterns over the folded text, each naming a kind of
// evidence (a family): instruction-override ("ignore/forget/disregard ...
// previous ... instructions", "new instructions:", "your real task is",
// "previous instructions have been revoked", and the same in the
// languages attackers switch to, other scripts included);
// system-impersonation (chat-template tokens, "[SYSTEM]"/"### System"
// headers, a JSON "role": "system", claims to be the developer);
// role-impersonation ("you are now", "from now on you", "act as" with an
// unrestricted persona); fake-transcript (user and model turns in one
// text); delimiter-injection (a forged end of input, an HTML comment that
// speaks to a model); addressed-to-model ("note to the AI", "AI reading
// this", "when summarizing this page"); prompt-leak; exfiltration-
// instruction (sensitive data sent to an address or URL, secrets put in
// a reply, data in a URL's query); tool-invocation (calling, approving,
// destroying); memory-poisoning (a write to memory next to a privilege
// claim, a lifted restriction or a sleeper trigger); privilege-claim;
// safety-bypass; stealth-instruction; sleeper-trigger; and the jailbreak
// framings: jailbreak-dan, jailbreak-mode, jailbreak-unrestricted,
// jailbreak-hypothetical, jailbreak-roleplay (grandma, evil twin),
// jailbreak-refusal-suppression, jailbreak-framing (fiction, research or
// hypotheticals around a harmful request, which is weak evidence alone),
// token-smuggling (decode or assemble this, then do it). Invisible
// characters between letters are reported on their own as
// hidden-characters (low).
//
// Context weakens evidence: a phrase in quotes in a sentence that talks
// about it ("phrases like '...' are examples", a string literal in code)
// loses 4 logits, a quotation alone 1.2, a sentence with two words about
// attacks 1.5, a negation right before ("never reveal ...") 3.
//
// # Score and severity
//
// Evidence combines logistically: confidence = σ(-3 + w + support). w is
// the rule's weight (set by reasoning about how often its words occur in
// harmless text, not fitted to data) plus bonuses, minus context, plus 1
// when the match was found only by undoing an obfuscation (look-alikes,
// hidden characters, spacing, leetspeak, compacted words), plus 1 when
// it was encoded, plus the provenance: 1 for an instruction to the model
// in a tool's output, 1.3 in a tool's description, 0.4 for the other
// families there. support is 0.6 times the best weight of each other
// family within 400 bytes (each capped at 3, all at 3.5): evidence of
// several kinds is stronger than any alone, the same words read by two
// rules count once. Severity follows confidence: low from 0.35 (below,
// nothing is reported), medium from 0.60, high from 0.85, critical from
// 0.95 (ThresholdLow and the others). The operating point for blocking
// is medium: one explicit signal reaches it ("ignore all previous
// instructions", "<|im_start|>system", "do anything now" next to DAN),
// one weak signal ("act as", "from now on", "remember for later") does
// not. At most one match is reported per span, named by its strongest
// evidence.
//
// # Cost
//
// A Detector is safe for concurrent use and keeps no text. Its cost is
// linear in the input: one pass of an Aho-Corasick automaton finds the
// words rules start with and the words they need; a rule's pattern runs
// only where its start word stands whole, the words it needs are near,
// and over a window bounded by its clause and 300 bytes. An input that
// floods the rules stops yielding evidence after 4096 pieces.
package inject
