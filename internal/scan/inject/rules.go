package inject

import "strings"

// The rules are written against Normalized.Text: lower case, ASCII
// letters, one space standing for any whitespace or none. Weights are
// logits (see score.go): about 3.4 alone reaches medium, evidence of two
// families together is stronger than either. They were set by reasoning
// about how often the words occur in benign text, not fitted to a data
// set; every rule names a kind of evidence, not one attack's wording.

func alt(ws ...string) string { return `(?:` + strings.Join(ws, `|`) + `)` }

var (
	det   = alt(`all`, `any`, `every`, `each`, `the`, `your`, `my`, `our`, `these`, `those`, `this`, `that`, `of`, `such`, `its`, `their`, `both`, `other`)
	prior = alt(`previous(?:ly)?`, `prior`, `above`, `earlier`, `preceding`, `foregoing`, `former`, `original`, `initial`, `old(?:er)?`,
		`given`, `underlying`, `before`, `aforementioned`, `past`)
	authq = alt(`system`, `safety`, `security`, `developers?`, `operators?`, `admin(?:istrator)?`, `content`, `ethical`, `moral`, `openai'?s?`,
		`anthropic'?s?`, `built-?in`, `hidden`, `programmed`, `alignment`, `pre-?programmed`, `hard-?coded`, `guiding`)
	directive = alt(`instructions`, `directions`, `directives`, `rules`, `ruleset`, `guidelines`, `guidance`, `guardrails`, `polic(?:y|ies)`,
		`system prompts?`, `prompts?`, `constraints`, `restrictions`, `filters`, `programming`, `training`,
		`commands`, `orders`, `conditioning`, `protocols`, `safeguards`, `principles`, `ethics`, `morals`, `boundaries`, `context`,
		`tasks?`, `persona`, `safety`, `security`, `moderation`, `censorship`)
	strongDirective = alt(`instructions`, `guidance`, `guidelines`, `guardrails`, `system prompt`,
		`programming`, `safeguards`, `safety (?:rules|guidelines|filters|measures|protocols)`, `ethics`, `morals`)
	// overrideVerb discards; weakVerb also has everyday uses ("reset all
	// settings", "remove all restrictions on the dough") and needs a
	// pointer at the standing instructions.
	overrideVerb = alt(`ignor(?:e|es|ed|ing)`, `disregard(?:s|ed|ing)?`, `forget(?:s|ting)?`, `forgot`, `overrid(?:e|es|ing|den)`,
		`supersed(?:e|es|ing)`, `bypass(?:es|ed|ing)?`, `circumvent(?:s|ed|ing)?`, `discard(?:s|ed|ing)?`, `abandon(?:s|ed|ing)?`,
		`dismiss(?:es|ed|ing)?`, `nullif(?:y|ies|ied|ying)`, `throw away`, `throw out`, `set aside`,
		`stop (?:following|obeying|adhering to|applying)`, `cease (?:following|obeying)`, `do not (?:follow|obey)`, `don'?t (?:follow|obey)`,
		`no longer (?:follow|obey)`, `pay no (?:attention|heed) to`, `never mind`)
	// imperativeVerb is overrideVerb as a command or gerund ("ignore",
	// "ignoring"), not a description ("the filter ignores new rules").
	imperativeVerb = alt(`ignore`, `ignoring`, `disregard`, `disregarding`, `forget`, `forgetting`, `override`, `overriding`, `bypass`,
		`bypassing`, `circumvent`, `discard`, `abandon`, `dismiss`, `nullify`, `throw away`, `throw out`, `set aside`,
		`stop (?:following|obeying|adhering to|applying)`, `do not (?:follow|obey)`, `don'?t (?:follow|obey)`, `pay no (?:attention|heed) to`)
	weakVerb = alt(`overwrit(?:e|es|ing)`, `overrul(?:e|es|ing)`, `neglect(?:s|ed|ing)?`, `drop(?:s|ped|ping)?`, `skip(?:s|ped|ping)?`,
		`cancel(?:s|led|ling)?`, `void`, `eras(?:e|es|ing)`, `delet(?:e|es|ing)`, `clear(?:s|ing)?`, `reset(?:s|ting)?`, `wip(?:e|es|ing)`,
		`remov(?:e|es|ing)`, `replac(?:e|es|ing)`)
	pointer     = alt(`previous(?:ly)?`, `prior`, `above`, `earlier`, `preceding`, `foregoing`, `original`, `initial`, `aforementioned`, `your`, `system`, `safety`, `ethical`, `moral`, `openai'?s?`, `anthropic'?s?`, `developers?'?`)
	aiDirective = alt(`instructions?`, `directives?`, `guidelines?`, `rules`, `system prompts?`, `prompts?`, `programming`, `restrictions`, `safeguards`, `guardrails`, `constraints`, `polic(?:y|ies)`, `ethics`, `morals`, `training`, `conditioning`)

	// sensitive things to send or include.
	sensitive = alt(`(?:their|his|her|the user'?s|users'?|the customer'?s|customers'?) (?:messages|e-?mails|data|conversations|chats|files|history|credentials|passwords|contacts|documents|details)`,
		`(?:customer|user|client|patient|employee|account|personal|private|internal|sensitive|confidential|company|member|contact|subscriber)s?'? ?`+
			alt(`e-?mails?`, `e-?mail addresses`, `data`, `records`, `details`, `info(?:rmation)?`, `pii`, `addresses`, `lists?`, `files`, `documents`,
				`history`, `messages`, `contacts`, `credentials`, `database`, `profiles`, `phone numbers`, `ssns?`),
		`secrets?`, `credentials`, `passwords?`, `passwd`, `api[\s_-]?keys?`, `(?:access|auth(?:entication)?|bearer|session|refresh) ?tokens?`,
		`session ?(?:cookies?|ids?)`, `private ?keys?`, `ssh ?keys?`, `tokens`, `cookies`, `system prompts?`,
		`(?:full |entire |complete )?(?:conversation|chat)(?: history| transcripts?| logs?| context| data)?`, `transcripts?`,
		`environment variables`, `env(?:ironment)? vars`, `\.env(?: file)?`, `contents? of`, `database dumps?`, `canary(?: tokens?)?`,
		`sys-?canary`, `internal (?:data|documents|files|notes|configuration|config)`, `source code`, `tool definitions`,
		`config(?:uration)? (?:values|settings|files?)`)
	secretish = alt(`system prompts?`, `system context`, `api[\s_-]?keys?`, `secrets?`, `secret-looking (?:values|strings|data)`, `credentials`, `passwords?`,
		`(?:access|auth|session|bearer|api) tokens?`, `canary(?: tokens?| strings?| values?)?`, `sys-?canary`, `environment variables`,
		`env vars`, `conversation history`, `chat history`, `private keys?`, `ssh keys?`, `session cookies?`,
		`internal (?:configuration|config|instructions|notes)`, `tool definitions`, `(?:user|customer) data`)
	destination = alt(`[a-z0-9._%+-]+@[a-z0-9.-]+`, `https?://`, `(?:an? |the |this |that |my |our |their )?(?:external|remote|outside|third[\s-]party|attacker'?s?|unknown|personal|following|given|specified|below|above) ?`+
		alt(`server`, `endpoint`, `url`, `address`, `e-?mail(?: address)?`, `webhook`, `inbox`, `domain`, `site`, `website`, `host`, `bucket`, `account`, `pastebin`, `ip`, `channel`),
		`attacker`, `evil`, `exfil`, `(?:this|that|the following) (?:address|url|link|endpoint|webhook|e-?mail|server)`, `me at`, `ngrok`)
	persona = alt(`ai`, `llm`, `language model`, `large language model`, `model`, `chatbot`, `bot`, `agent`, `gpt`, `chatgpt`, `claude`,
		`copilot`, `gemini`, `assistant`, `ai (?:agent|assistant|model|system)s?`, `automated (?:system|agent|assistant)s?`, `autonomous agents?`)
	dangerPersona = `\b` + alt(`unrestricted`, `unfiltered`, `uncensored`, `evil`, `dan`, `jailbr(?:eak|oken)`, `hacker`, `malicious`, `amoral`,
		`opposite`, `anti-`, `deceased`, `dead`, `late grand`, `without (?:any )?(?:rules|restrictions|limits|filters|ethics|morals|guidelines|content moderation|moderation)`,
		`no (?:rules|restrictions|limits|filters|ethics|morals|guidelines|content moderation)`, `free from`, `not bound`, `unbound`)
	modeWeak   = alt(`developer`, `dev`, `debug(?:ging)?`, `maintenance`, `admin(?:istrator)?`, `sudo`, `root`, `diagnostics?`, `test(?:ing)?`, `learning`, `super(?:user)?`, `unsafe`, `raw`, `expert`, `override`, `privileged`, `service`, `sandbox`, `god`)
	modeStrong = alt(`dan`, `jailbr(?:eak|oken)`, `evil`, `opposite`, `unrestricted`, `unfiltered`, `uncensored`, `chaos`, `no-?limits?`, `no-?restrictions?`, `anarchy`, `freedom`, `rogue`, `villain`, `amoral`, `unlocked`, `devil`, `limitless`, `unbound`, `unhinged`)
	safetyQual = alt(`safety`, `ethical`, `ethics`, `moral`, `moderation`, `nsfw`, `censorship`, `openai`, `anthropic`)
	// contentQual needs its noun: "content filters", not "content length".
	contentQual = alt(`content`, `ai`, `output`)
	strictNoun  = alt(`filters?`, `filtering`, `guidelines?`, `guardrails?`, `restrictions?`, `polic(?:y|ies)`, `moderation`, `safeguards?`, `protections?`, `rules`, `censorship`)
	contentNoun = alt(`filters?`, `filtering`, `moderation`, `polic(?:y|ies)`, `guidelines?`, `restrictions?`, `safeguards?`, `rules`, `censorship`, `guardrails?`)
	safetyNoun  = alt(`filters?`, `filtering`, `checks?`, `guidelines?`, `guardrails?`, `restrictions?`, `polic(?:y|ies)`, `moderation`, `safeguards?`,
		`protections?`, `limitations?`, `limits`, `rules`, `constraints`, `measures`, `systems?`, `protocols?`, `mechanisms?`, `layers?`,
		`features?`, `settings`, `training`, `considerations`, `controls?`, `classifiers?`, `censorship`)
	// harmWords are harmful requests in one word; harmPhrases need the
	// word after (harmAfter lists those words, for the needed-word test).
	harmWords = alt(`malware`, `ransomware`, `keyloggers?`, `spyware`, `rootkits?`, `botnets?`, `infostealers?`, `cryptojackers?`,
		`metasploit`, `backdoors?`, `methamphetamine`, `bioweapons?`, `hate speech`)
	harmPhrases = alt(
		`credential stealers?`, `reverse shells?`, `zero-?days?`, `exploit (?:code|chains?|payloads?|kits?)`, `working exploits?`,
		`buffer overflow exploits?`, `privilege escalation exploits?`,
		`phishing (?:e-?mails?|pages?|sites?|kits?|templates?|campaigns?|links?|messages?)`, `sql injection attacks?`, `ddos attacks?`,
		`hack(?:ing)? (?:into|someone|a |an |the |my |their|his|her)`, `break(?:ing)? into (?:a |an |the |someone|their|his|her|corporate|computer|network)`,
		`steal(?:ing|s)? (?:credentials|passwords|data|identities|cookies|credit cards?|banking|money|accounts?)`,
		`crack(?:ing)? (?:passwords?|wifi|wpa|software|licen[cs]es?)`,
		`bypass(?:ing)? (?:authentication|antivirus|edr|2fa|mfa|login|paywalls?|drm|security systems?|content (?:moderation|filters?))`,
		`(?:evade|evading|avoid|avoiding) (?:detection|antivirus|edr)`, `exfiltrat(?:e|ing) (?:a |the |an )?(?:company|customer|corporate|entire|sensitive|data|database)`,
		`infect(?:ing)? (?:a |the )?(?:windows|computers?|systems?|machines?|networks?)`,
		`(?:synthesi[sz]e|manufacture|cook) (?:meth|mdma|cocaine|heroin|fentanyl|lsd|explosives?|nerve agents?|sarin|ricin)`,
		`pipe bombs?`, `nerve agents?`, `chemical weapons?`, `untraceable (?:poison|weapon|gun)s?`,
		`(?:toxic|hateful|racist|harassing) (?:and hateful )?content`, `(?:windows|software|activation|licen[cs]e|product) (?:activation |licen[cs]e |product )?keys`,
		`scrap(?:e|ing) personal data`, `social engineering (?:e-?mails?|attacks?|scripts?)`, `prompt injection (?:payloads|attacks)`,
		`jailbreak (?:techniques|prompts|methods)`)
	harmAfter = `stealer|shell|day|days|code|chain|payload|kit|exploit|overflow|escalation|email|e|mail|page|site|template|campaign|link|message|injection|attack|into|someone|a|an|the|my|their|his|her|corporate|computer|network|credentials|password|data|identities|cookies|credit|banking|money|account|wifi|wpa|software|licen|authentication|antivirus|edr|2fa|mfa|login|paywall|drm|security|content|detection|company|customer|entire|sensitive|database|windows|system|machine|meth|mdma|cocaine|heroin|fentanyl|lsd|explosive|nerve|sarin|ricin|bomb|agent|weapon|poison|gun|and|hateful|key|activation|product|personal|engineering|technique|prompt|method|0|zero`
)

// urlWithQuery reports whether the URL at pos has a query or fragment
// with a value (where data rides out).
func urlWithQuery(v string, pos int) bool {
	end := pos
	for end < len(v) && end-pos < 300 && v[end] != ' ' && v[end] != '\n' && v[end] != '\t' {
		end++
	}
	u := v[pos:end]
	q := strings.IndexAny(u, "?&#;")
	return q >= 0 && strings.IndexByte(u[q:], '=') >= 0
}

// lineStart reports whether pos begins a line, allowing the decoration
// that headers wear ("[", "###", "**", "<!--") and also the start of a
// sentence or the end of a bracketed label, where injected headers hide
// in running text.
func lineStart(v string, pos int) bool {
	i := pos
	for i > 0 && strings.IndexByte(" \t*#>[(<{%|=!-_", v[i-1]) >= 0 {
		i--
	}
	if i == 0 || v[i-1] == '\n' {
		return true
	}
	switch v[i-1] {
	case '.', '!', '?', ']', ')', ';', '"', '\'', '`':
		return i < pos // some space or decoration between
	}
	return false
}

// after returns a pre that requires one of the strings right before pos.
func after(ss ...string) func(v string, pos int) bool {
	return func(v string, pos int) bool {
		for _, s := range ss {
			if strings.HasSuffix(v[:pos], s) {
				return true
			}
		}
		return false
	}
}

func bit(fs ...family) uint32 {
	var m uint32
	for _, f := range fs {
		m |= 1 << f
	}
	return m
}

var defaultRules = newRuleSet([]*rule{
	// Instruction override: a verb of discarding, qualifiers that point at
	// the standing instructions, and a word for instructions.
	{needs: directive, name: RuleOverride, fam: famOverride, w: 4.5, neg: true, instr: true, start: overrideVerb,
		rest: ` (?:(?:` + det + `|and|or|to) )*(?:` + prior + `|` + authq + `|all|any|every|your)(?: (?:` + det + `|` + prior + `|` + authq +
			`|and|or|you|were|have|been|was|given|received|told|set|by|from|to))* ` + directive,
		bonus: []bonus{{src: `\bmy\b`, w: -2.2}}},
	{needs: strongDirective, name: RuleOverride, fam: famOverride, w: 2.8, neg: true, instr: true, max: 90, start: imperativeVerb,
		rest: `\s+(?:[a-z][a-z'-]*\s+){1,3}?` + strongDirective, bonus: []bonus{{src: `\bmy\b`, w: -2.2}}},
	{needs: aiDirective, name: RuleOverride, fam: famOverride, w: 4.2, neg: true, instr: true, max: 140, start: weakVerb,
		rest: ` (?:(?:` + det + `|and|or|to) )*` + pointer + `(?: (?:` + det + `|` + prior + `|` + authq + `|and|or|of))* ` + aiDirective, bonus: []bonus{{src: `\bmy\b`, w: -2.2}}},
	{needs: directive, name: RuleOverride, fam: famOverride, w: 4.2, neg: true, instr: true, max: 150, start: overrideVerb,
		rest: ` (?:(?:` + det + `) )*(?:\b[a-z]+\s+)?` + directive + ` (?:(?:that |which )?(?:you (?:were|have been|'ve been|had been) (?:given|told|provided|taught)|(?:given|provided|stated|written|listed|mentioned) (?:above|earlier|before|previously)|above|earlier|before(?:hand)?|previously|so far|until now|in your (?:system )?prompt))`},
	{needs: `above|preceding|foregoing|prior`, name: RuleOverride, fam: famOverride, w: 3.0, neg: true, instr: true, max: 100, start: overrideVerb,
		rest:  ` (?:the |all (?:of )?the |everything )?(?:above|preceding|foregoing|prior (?:text|input|prompt))(?: (?:text|instructions?|content|prompt|input|directions|message))?\s*(?:and|then|,|\.|;|:|$)`,
		bonus: []bonus{{src: `^.{0,60}?(?:and|then|,|\.) (?:instead )?(?:just )?(?:say|print|output|write|respond|reply|tell|reveal|translate|repeat|answer|do)\b`, w: 0.8, ahead: 50}}},
	{needs: `everything|anything|all|whatever`, name: RuleOverride, fam: famOverride, w: 4.2, neg: true, instr: true, max: 100, start: overrideVerb,
		rest: ` (?:about )?(?:everything|anything|all|whatever) (?:(?:that |which )?(?:you (?:were|have been|'ve been|had been|have|are) )?(?:told|given|instructed|taught|programmed|trained)|(?:above|before|prior|previously|earlier|so far|until now|up to (?:this|now))(?:\s*(?:[.,;:!?\n]|$)| (?:and|then|this)\b)|(?:that|which) (?:came|comes|was|is) (?:before|above|earlier)|in your (?:system )?prompt)`},
	{needs: `instruction|directive|order|rule|objective|mission|guideline|system|prompt|task|context`, near: 2, name: RuleOverride, fam: famOverride, w: 2.4, instr: true, max: 60,
		start: `new|updated|revised|real|actual|true|secret|hidden|important|priority|urgent|special|overriding|override|replacement|latest|corrected`, pre: lineStart,
		rest:  ` (?:system )?(?:instructions?|directives?|orders|rules|objective|mission|guidelines|system prompt|prompt|task|context) ?(?::|--|=)(?:[^a-z0-9]|$)`,
		bonus: []bonus{{src: `instruction|directive|system prompt|prompt|orders|objective|mission`, w: 0.8}}},
	{needs: `new|real|actual|true|only|sole|updated|revised|primary`, name: RuleOverride, fam: famOverride, w: 3.2, instr: true, max: 80, start: `your`,
		rest: ` (?:new|real|actual|true|only|sole|updated|revised|primary) (?:task|instructions?|goal|purpose|role|job|objective|mission|directive|function|priority|orders) (?:is|are|will be|:|now)`},
	{cross: true, needs: `instead|now|rather|new|from|your`, name: RuleOverride, fam: famOverride, w: 3.6, instr: true, max: 130,
		start: `ignor(?:e|ing)|forget|disregard|skip|abandon|drop|stop|cancel|cease|quit`,
		rest:  `\s+(?:(?:the|this|that|your|my|all|any)\s+)?(?:[a-z'-]+\s+){0,2}?(?:task|summar[a-z]*|review[a-z]*|translat[a-z]*|paper|document|article|request|question|job|assignment|analy[sz][a-z]*|read[a-z]*|process[a-z]*|respond[a-z]*|answer[a-z]*|writ[a-z]*|work[a-z]*|above|that)\s*[.,;:!-]+\s*(?:instead|now|rather|new task|from now on|your (?:new|real|actual) task)`},
	{near: 8, needs: `invalid|cancel|revoked|void|nullified|superseded|replaced|overridden|rescinded|reset|cleared|deleted|deprecated|expired|obsolete|longer`, name: RuleOverride, fam: famOverride, w: 3.6, instr: true, max: 140,
		start: `previous|prior|all|earlier|above|original|old|initial|existing|current|your|system|safety|content|standing`,
		rest:  ` (?:(?:` + det + `|` + prior + `|` + authq + `) )*(?:instructions?|directives?|guidelines|prompts?|system prompt|programming|context|restrictions|safety (?:rules|guidelines)|content polic(?:y|ies)) (?:(?:has|have|had) been|is|are|was|were|now|hereby|officially|all|being)* (?:invalidated|invalid|cancell?ed|revoked|void(?:ed)?|nullified|superseded|replaced|overridden|rescinded|reset|cleared|deleted|deprecated|expired|obsolete|no longer (?:valid|apply|applies|in effect|active|relevant))`},
	{needs: `guideline|rule|instruction|polic|programming|directive|system|training|behavio|setting|configuration|constraint|restriction|principle`, name: RuleOverride, fam: famOverride, w: 3.6, instr: true, max: 100,
		start: `corrections?|updates?|changes?|amendments?|addend(?:um|a)|modifications?|revisions?|exceptions?|overrides?|patch|adjustments?`,
		rest:  ` (?:to|of|for) your (?:core |base |system )?(?:guidelines|rules|instructions|polic(?:y|ies)|programming|directives|system prompt|training|behaviou?r|settings|configuration|constraints|restrictions|principles)`},
	{needs: `guideline|rule|instruction|polic|programming|directive|system|principle|constraint|restriction|value|alignment|safety`, name: RuleOverride, fam: famOverride, w: 3.2, instr: true, max: 90,
		start: `updat(?:e|ing)|chang(?:e|ing)|modif(?:y|ying)|alter(?:ing)?|rewrit(?:e|ing)|adjust(?:ing)?|relax(?:ing)?|loosen(?:ing)?|revis(?:e|ing)|reprogram(?:ming)?`,
		rest:  ` your (?:core |base |system )?(?:guidelines|rules|instructions|polic(?:y|ies)|programming|directives|system prompt|principles|constraints|restrictions|values|alignment|safety (?:rules|guidelines|settings))`},

	// The same in the Latin-script languages attackers switch to (the
	// other scripts are in structure.go): a verb of ignoring that is not
	// English, or a shared one with a word for rules that is not.
	{needs: `instruction|consigne|regle|politique|directive|regla|instrucciones|indicaciones|politica|normas|directrices|anweisungen|regeln|richtlinien|vorgaben|vorschriften|istruzioni|regole|direttive|instrucoes|regras|diretrizes|securite|seguridad|sicherheit|sicurezza|seguranca|restriction|restricciones|einschrankungen|restrizioni|restricoes|limitation|filtres|filtros|filter`, near: 7, name: RuleOverride, fam: famOverride, w: 4.2, neg: true, instr: true, max: 120,
		start: `ignorez|ignorer|ignorieren|ignoriere|ignoriert|ignora|ignoren|ignorar|ignorare|ignorate|oubliez|oublie|olvida|olvide|olviden|vergiss|vergessen|dimentica|dimenticate|esqueca|esquecam|esquecer|esquece|desconsidere|desconsiderar|omettez|negligez|nao (?:siga|obedeca)|ne (?:suivez|tenez) (?:pas|plus)|no (?:sigas|sigan|obedezcas)`,
		rest:  `(?:\s+[a-z'-]+\b){0,4}? (?:instructions?|consignes?|regles?|politiques?|directives?|reglas?|instrucciones|indicaciones|politicas?|normas|directrices|anweisungen|regeln|richtlinien|vorgaben|vorschriften|istruzioni|regole|direttive|instrucoes|regras|diretrizes|securite|seguridad|sicherheit|sicurezza|seguranca|restrictions?|restricciones|einschrankungen|restrizioni|restricoes|limitations?|filtres|filtros|filter)`},
	{needs: `consigne|regle|politique|regla|instrucciones|indicaciones|normas|directrices|anweisungen|regeln|richtlinien|vorgaben|istruzioni|regole|direttive|instrucoes|regras|diretrizes|securite|seguridad|sicherheit|sicurezza|seguranca|restricciones|einschrankungen|restrizioni|restricoes`, name: RuleOverride, fam: famOverride, w: 4.2, neg: true, instr: true, max: 120,
		start: `ignore|ignoring|ignora|ignorar|ignorer|ignorez|ignoriere|ignorieren|disregard|disregarding|forget|forgetting|bypass|bypassing`,
		rest:  `(?:\s+[a-z'-]+\b){0,4}? (?:consignes?|regles?|politiques?|reglas|instrucciones|indicaciones|normas|directrices|anweisungen|regeln|richtlinien|vorgaben|istruzioni|regole|direttive|instrucoes|regras|diretrizes|securite|seguridad|sicherheit|sicurezza|seguranca|restricciones|einschrankungen|restrizioni|restricoes)\b`},
	{needs: `invite|prompt|instructions|consignes|systemprompt|systemaufforderung|system|systemanweisungen|istruzioni|instrucoes|instrucciones|regles|reglas|regole|cles|claves|mots|contrasenas`, name: RuleLeak, fam: famLeak, w: 3.6, neg: true, instr: true, max: 140,
		start: `affichez|affiche|afficher|montrez|montre|montrer|revelez|revele|reveler|divulguez|divulgue|divulguer|muestra|muestrame|muestre|mostrar|revela|revelame|revelar|zeig|zeige|zeigen|gib|geben|enthulle|enthullen|rivela|rivelami|mostra|mostrami|mostre|exibe|exiba|imprime|imprimez|imprimer|ecris|ecrivez|donnez|donne|dame|dammi|copiez|copie|copia|copiar`,
		rest:  `(?:\s+[a-z'-]+\b){0,4}? (?:invite (?:du )?systeme|prompt (?:du )?systeme|instructions (?:du )?systeme|consignes (?:du )?systeme|prompt del sistema|instrucciones del sistema|systemprompt|systemaufforderung|system-prompt|systemanweisungen|prompt di sistema|istruzioni di sistema|prompt do sistema|instrucoes do sistema|regles (?:privees|internes|cachees|secretes)|reglas (?:privadas|internas|ocultas|secretas)|regole (?:private|interne|nascoste|segrete)|cles api|claves api|mots de passe|contrasenas)`},
	{needs: `outils|appels|herramientas|llamadas|werkzeuge|werkzeugaufrufe|aufrufe|strumenti|chiamate|ferramentas|chamadas`, name: RuleTool, fam: famTool, w: 2.6, neg: true, instr: true, max: 90,
		start: `approuvez|approuve|approuver|aprueba|apruebe|aprobar|genehmige|genehmigen|approva|approvare|autorisez|autorise|autoriser|autoriza|autorizar|autorizza`,
		rest:  `(?:\s+[a-z'-]+\b){0,3}? (?:outils|appels|herramientas|llamadas|werkzeuge|werkzeugaufrufe|aufrufe|strumenti|chiamate|ferramentas|chamadas)`},
	{needs: `donnees|datos|daten|dati|dados|secrets|secretos|geheimnisse|segreti|segredos|identifiants|credenciales|zugangsdaten|credenziali|mots|contrasenas|passworter|password|senhas`, name: RuleExfil, fam: famExfil, w: 2.6, neg: true, instr: true, max: 120,
		start: `envoyez|envoie|envoyer|envia|envie|enviar|sende|senden|schicke|schick|schicken|invia|inviare|manda|mandar|mandare`,
		rest:  `(?:\s+[a-z'-]+\b){0,3}? (?:(?:les|las|los|die|i|le|os|as) )?(?:donnees|datos|daten|dati|dados|secrets|secretos|geheimnisse|segreti|segredos|identifiants|credenciales|zugangsdaten|credenziali|mots de passe|contrasenas|passworter|password|senhas)`},

	// Disabling or lifting safety measures.
	{needs: `safety|content|ethical|ethic|moral|moderation|nsfw|censorship|openai|anthropic|ai|guardrail|safeguard|your`, name: RuleSafetyBypass, fam: famSafety, w: 3.8, neg: true, instr: true, max: 120,
		start: `disable|disabling|deactivate|deactivating|turn off|turning off|switch off|shut off|remove|removing|lift|lifting|suspend|suspending|bypass|bypassing|circumvent|circumventing|evade|evading|get (?:around|past|round)|work around|ignore|ignoring|override|overriding|relax|relaxing|loosen|loosening|lower|lowering|waive|waiving|drop|dropping|skip|skipping|strip|defeat|defeating|sidestep|break|breaking|not (?:apply|use|enforce|follow)|stop (?:applying|using|enforcing|following)|free (?:yourself )?from`,
		rest: ` (?:(?:all|any|the|your|my|of|these|its|those|current|existing|built-?in|internal|usual|normal|default|active|standard|remaining|every|their|such) )*` +
			alt(safetyQual+` ?`+safetyNoun+`?`, contentQual+` ?`+contentNoun, `guardrails?`, `safeguards?`, `censorship`,
				`ethical (?:guidelines|constraints|boundaries)`, `your (?:restrictions|filters|limitations|limits|rules|guidelines|constraints|programming|training|conditioning)`),
		bonus: []bonus{{src: `\byour(?:self)?\b`, w: 0.4}, {src: `(?:how (?:do|can|to|would|should) (?:i |we |you |one )?|how to|where (?:do|can) i|is it possible to|steps to|^to|\. to|in order to)[^.?!\n]{0,30}$`, w: -1.5, back: 40}}},
	{needs: `disabled|deactivated|turned|switched|off|lifted|removed|suspended|bypassed|relaxed|waived|revoked|overridden|void|paused|inactive|not|no|revised|updated|changed|amended|loosened`, name: RuleSafetyBypass, fam: famSafety, w: 4.0, instr: true, max: 150,
		start: `safety|ethical|ethics|moderation|nsfw|censorship|openai|anthropic`,
		rest: `(?: (?:content|safety|ethical|moderation|ai))?[\s_-]*(?:` + safetyNoun + `)(?:\s+[a-z']+\b){0,6}? (?:(?:have|has|had) been|are|is|were|was|will be|now|temporarily|permanently|officially|hereby|all|been|being|currently|completely|fully|totally|just|successfully)* ` +
			`(?:disabled|deactivated|turned off|switched off|off|lifted|removed|suspended|bypassed|relaxed|waived|revoked|overridden|void|paused|inactive|not active|no longer (?:active|apply|applies|in effect|enforced|required)|revised|updated|changed|amended|loosened)`,
		bonus: []bonus{{src: `(?:revised|updated|changed|amended)$`, w: -1.4}}},
	{needs: `disabled|deactivated|turned|switched|off|lifted|removed|suspended|bypassed|relaxed|waived|revoked|overridden|void|paused|inactive|not|no|revised|updated|changed|amended|loosened`, name: RuleSafetyBypass, fam: famSafety, w: 4.0, instr: true, max: 150,
		start: `all|content|ai`,
		rest: `(?: (?:content|safety|ethical|moderation|ai))?[\s_-]*(?:` + strictNoun + `)(?:\s+[a-z']+\b){0,6}? (?:(?:have|has|had) been|are|is|were|was|will be|now|temporarily|permanently|officially|hereby|all|been|being|currently|completely|fully|totally|just|successfully)* ` +
			`(?:disabled|deactivated|turned off|switched off|off|lifted|removed|suspended|bypassed|relaxed|waived|revoked|overridden|void|paused|inactive|not active|no longer (?:active|apply|applies|in effect|enforced|required)|revised|updated|changed|amended|loosened)`,
		bonus: []bonus{{src: `(?:revised|updated|changed|amended)$`, w: -1.4}}},
	{needs: `disabled|deactivated|turned|switched|off|lifted|removed|suspended|bypassed|relaxed|waived|revoked|overridden|paused|inactive`, name: RuleSafetyBypass, fam: famSafety, w: 4.0, instr: true, max: 60,
		start: `safety|moderation|censorship|nsfw`,
		rest:  ` (?:(?:have|has|had) been|are|is|were|was|will be|now|temporarily|permanently|officially|hereby|been|being|currently|completely|fully|totally)* (?:disabled|deactivated|turned off|switched off|off|lifted|removed|suspended|bypassed|relaxed|waived|revoked|overridden|paused|inactive)`},
	{needs: `disabled|lifted|removed|suspended|bypassed|revoked|deactivated|turned|void|waived`, name: RuleSafetyBypass, fam: famSafety, w: 2.2, instr: true, max: 80,
		start: `rules|restrictions|filters|guidelines|guardrails|limits|limitations|constraints`,
		rest:  ` (?:(?:have|has|had) been|are|is|were|was|now|temporarily|permanently|all|been|hereby)+ (?:disabled|lifted|removed|suspended|bypassed|revoked|deactivated|turned off|void|waived)`},
	{needs: `off|disabled|false|0|none|no|null|bypassed|unrestricted|disable`, name: RuleSafetyBypass, fam: famSafety, w: 4.0, instr: true, max: 50,
		start: `safety|content|moderation|nsfw|censorship|filters?|filtering|guardrails?|ethics|safesearch`,
		rest:  `[\s_-]*(?:filters?|filtering|mode|checks?|level|enabled|on)?\s*(?:[:=]|is set to|set to)\s*(?:off|disabled|false|0|none|no|null|bypassed|unrestricted|disable)\b`},
	{needs: `restricted|prohibited|forbidden|banned|blocked|disallowed|filtered|refused`, name: RuleSafetyBypass, fam: famSafety, w: 3.0, instr: true, max: 80,
		start: `previously|formerly|all previously`,
		rest:  ` (?:restricted|prohibited|forbidden|banned|blocked|disallowed|filtered|refused) (?:content|topics|categories|requests|questions|subjects|material|information|information|outputs?)`},

	// Jailbreak modes.
	{needs: `mode`, name: RuleMode, fam: famMode, w: 2.6, max: 80,
		start: `enter(?:s|ing)?|enabl(?:e|es|ed|ing)|activat(?:e|es|ed|ing)|switch(?:ing)? (?:to|into)|turn(?:ing)? on|engag(?:e|ing)|unlock(?:s|ed|ing)?|boot(?:ing)? into|go(?:ing)? into|now in|you are (?:now )?in|you'?re (?:now )?in|operating in|running in|start(?:ing)?|initiat(?:e|ing)|launch(?:ing)?|welcome to`,
		rest:  ` (?:the |a |an )?(?:` + modeWeak + `|` + modeStrong + `)[\s_-]?mode`,
		bonus: []bonus{{src: modeStrong, w: 1.2}, {src: `(?:how (?:do|can|to|would|should) (?:i |we |you |one )?|how to|where (?:do|can) i|is it possible to|steps to|^to|\. to|in order to)[^.?!\n]{0,30}$`, w: -1.5, back: 40}}},
	{needs: `mode`, name: RuleMode, fam: famMode, w: 3.4, max: 60,
		start: `dan|jailbreak|jailbroken|evil|opposite|unrestricted|unfiltered|uncensored|chaos|anarchy|rogue|developer|dev|god|debug|admin|maintenance|unhinged`,
		rest:  `[\s_-]?mode (?:is )?(?:now )?(?:enabled|activated|engaged|unlocked|initiated|started|on\s*(?:[.!:\n]|$))`,
		bonus: []bonus{{src: `^(?:developer|debug|admin|maintenance)`, w: -0.6}}},
	{needs: `dan|jailbr|evil|opposite|unrestricted|unfiltered|uncensored|chaos|no|anarchy|freedom|rogue|villain|amoral|unlocked|devil|limitless|unbound|unhinged|god`, name: RuleMode, fam: famMode, w: 3.4, max: 40, start: `mode`,
		rest: `\s*[:=]\s*(?:` + modeStrong + `|god)\b`},

	// "No restrictions" personas.
	{needs: `restriction|filter|limitation|limit|guideline|rule|censorship|ethic|moral|polic|safeguard|guardrail|boundar|constraint|confine|disclaimer|warning|scruple|principle|restraint|moderation|content|safety`, name: RuleUnrestricted, fam: famUnrestricted, w: 1.8, max: 110,
		start: `no|without|free (?:from|of)|unbound by|not (?:bound|restricted|limited|constrained|governed) by|devoid of|lacking|with no|zero|beyond|absent`,
		rest: ` (?:(?:any|all|the|its|your|their|typical|usual|normal|moral|ethical|safety|content|openai'?s?|such|of|kind of|sort of) )*` +
			alt(`restrictions?`, `filters?`, `filtering`, `limitations?`, `limits`, `guidelines`, `rules`, `censorship`, `ethics`, `morals`, `morality`,
				`moral guidelines`, `content polic(?:y|ies)`, `polic(?:y|ies)`, `safeguards`, `guardrails`, `boundaries`, `constraints`, `confines`,
				`disclaimers`, `warnings`, `scruples`, `principles`, `restraints`, `moderation`, `content moderation`,
				`safety (?:considerations|measures|restrictions|guidelines|rules|disclaimers|filters)`),
		bonus: []bonus{{src: `\b(?:ai|you|your|assistants?|models?|chatbots?|bots?|gpt|llms?|persona|character|mode|version|answers?|respond|responds|reply|replies|refuses?)\b`, w: 0.8, back: 60, ahead: 60}}},
	{needs: `ai|llm|language|model|chatbot|bot|agent|gpt|chatgpt|claude|copilot|gemini|assistant|automated|autonomous|version|persona|entity|character|alter|twin|counterpart|clone|mode`, near: 5, name: RuleUnrestricted, fam: famUnrestricted, w: 3.2, max: 100,
		start: `unfiltered|uncensored|unrestricted|unlimited|unbound|unconstrained|unchained|amoral|unethical|unaligned|jailbroken|lawless|limitless|no-limits?|rule-?free|filter-?free`,
		rest:  `[\s,]+(?:(?:and|completely|totally|fully|entirely|an?|[a-z]+)[\s,]+){0,2}?` + alt(persona, `version`, `persona`, `entity`, `character`, `alter ego`, `twin`, `counterpart`, `clone`, `mode`)},
	{near: 5, needs: `follow|abide|obey|comply|adhere|respect`, name: RuleUnrestricted, fam: famUnrestricted, w: 3.0, max: 90,
		start: `not|never|don|do|does|doesn|no longer|aren|isn`,
		rest:  `(?: not|n'?t)? (?:have|has|need|needs|required|obliged|bound|supposed) to (?:follow|abide by|obey|comply with|adhere to|respect) (?:any|the|your|their|its)? ?(?:rules|guidelines|polic(?:y|ies)|restrictions|instructions|ethics|principles)`},
	{near: 4, needs: `refuse|decline|say|apologi|add|include|warn|lecture|moraliz|break|mention`, name: RuleRefusal, fam: famUnrestricted, w: 2.6, max: 90,
		start: `never|do not|don'?t|must not|cannot|can'?t|won'?t|will not|shall not|not allowed to|should not|never ever`,
		rest:  ` (?:ever )?(?:refuses?|decline|say no|apologi[sz]e|add (?:any )?(?:disclaimers?|warnings?)|include (?:any )?(?:disclaimers?|warnings?)|warn|lecture|moraliz\w*|break character|mention (?:that )?(?:you|it)(?: is|'s)? (?:illegal|unethical|harmful|dangerous))`},
	{near: 8, needs: `question|hesitation|exception|fail|unconditionally|blindly|no`, name: RuleRefusal, fam: famUnrestricted, w: 2.4, max: 80,
		start: `obey|follow|comply with|do`,
		rest:  ` (?:me|my (?:every |orders|commands|instructions|word)|everything i (?:say|tell you)|whatever i (?:say|ask|tell you)|all my (?:orders|commands|instructions))(?: (?:without|with no) (?:question|hesitation|exception|fail)s?| unconditionally| blindly| no matter what)`},
	{near: 3, needs: `everything|anything|all`, name: RuleRefusal, fam: famUnrestricted, w: 2.2, max: 70,
		start: `answers?|respond(?:s)?|reply|replies`,
		rest:  ` (?:to )?(?:everything|anything|all (?:questions|requests|prompts))(?: (?:without|with no) (?:exception|question|hesitation|refusal|restriction)s?)?`},

	// Role reassignment.
	{near: 3, needs: `now|longer|henceforth|hereby|going`, name: RuleRole, fam: famRole, w: 2.2, instr: true, max: 60,
		start: `you are|you'?re|you will (?:now )?be|u r|ur`,
		rest:  ` (?:now|no longer|henceforth|from now on|hereby|going to be)`,
		bonus: []bonus{{src: `^.{0,50}?(?:gpt|bot\b|\bai\b|dan\b|unrestricted|unfiltered|jailbr|evil|developer|character|persona|named|called|known as|mode\b|no longer (?:an? )?(?:ai|assistant|chatgpt|claude|bound|restricted|limited|required|a language))`, w: 1.6, ahead: 60}}},
	{needs: `now|point|rest|remainder|forward|otherwise|notice`, near: 4, name: RuleRole, fam: famRole, w: 2.0, instr: true, max: 110,
		start: `from now on|from this point (?:on|forward|onwards?)|going forward|for the rest of (?:this|the|our) (?:conversation|chat|session)|for the remainder of (?:this|the|our) (?:conversation|chat|session)|starting now|until (?:i say otherwise|further notice)`,
		rest:  `[\s,]*(?:you|act|respond|answer|reply|pretend|behave|speak|always|never|only|ignore|do not|don'?t|forget|stay|remain)`},
	{name: RuleRole, fam: famRole, w: 2.0, instr: true, max: 110, start: `henceforth|hereafter`,
		rest: `[\s,]*(?:you|act|respond|answer|reply|pretend|behave|speak|always|never|only|ignore|do not|don'?t|forget|stay|remain)`},
	{near: 2, needs: `as|like`, name: RuleRole, fam: famRole, w: 1.2, instr: true, max: 60,
		start: `act(?:ing)?|behav(?:e|ing)|respond(?:ing)?|repl(?:y|ying)|answer(?:ing)?|speak(?:ing)?|roleplay(?:ing)?|role-play(?:ing)?|role play|pos(?:e|ing)`,
		rest:  ` (?:as|like) (?:if you (?:are|were) )?`,
		bonus: []bonus{{src: dangerPersona, w: 2.2, ahead: 80}}},
	{needs: `you|to|being|yourself`, name: RuleRole, fam: famRole, w: 1.4, instr: true, max: 60,
		start: `pretend|imagine|suppose|assume|envision`,
		rest:  ` (?:that )?(?:you (?:are|were|have|had|can|could)|you'?re|to be|being|yourself)`,
		bonus: []bonus{{src: dangerPersona, w: 2.0, ahead: 80}}},
	{near: 2, needs: `want|need|would`, name: RuleRole, fam: famRole, w: 1.4, instr: true, max: 60, start: `i`,
		rest:  ` (?:want|need|would like) you to (?:act|pretend|roleplay|role-play|simulate|become|be|behave|respond as|answer as|play)`,
		bonus: []bonus{{src: dangerPersona, w: 2.0, ahead: 80}}},
	{needs: `ai|assistant|bot|model|gpt|chatbot|character|persona|person|human|hacker|entity|version|admin|administrator|developer|dan|system|operator`, name: RuleRole, fam: famRole, w: 1.6, instr: true, max: 80,
		start: `simulate|simulating|emulate|emulating|impersonate|impersonating|become|becoming|embody|embodying`,
		rest:  ` (?:being |that you are |to be )?(?:an? |the |my )?(?:\b[a-z-]+\s+){0,2}?(?:ai|assistant|bot|model|gpt|chatbot|character|persona|person|human|hacker|entity|version|admin|administrator|developer|dan|system administrator|operator)\b`,
		bonus: []bonus{{src: dangerPersona, w: 2.0, ahead: 80}}},
	{needs: `role|part|persona|identity|character`, name: RuleRole, fam: famRole, w: 1.6, instr: true, max: 80,
		start: `play (?:the )?(?:role|part) of|tak(?:e|ing) on the (?:role|persona) of|assum(?:e|ing) the (?:role|persona|identity) of|in the role of|immerse yourself (?:in|into) the role of|stay in character|remain in character|never break character|don'?t break character`,
		rest:  ``,
		bonus: []bonus{{src: dangerPersona, w: 2.0, ahead: 80}}},
	{near: 6, needs: `ai|assistant|bot|model|gpt|chatbot|agent`, name: RuleRole, fam: famRole, w: 1.4, instr: true, max: 70, start: `you are|you'?re`,
		rest:  ` (?:an?|the) (?:\b[a-z-]+\s+){0,3}?(?:ai|assistant|bot|model|gpt|chatbot|agent)\b`,
		bonus: []bonus{{src: dangerPersona, w: 1.6, ahead: 80}}},

	// Fake system headers and claims to be the system or its makers.
	{name: RuleSystem, fam: famSystem, w: 4.2, instr: true, max: 40, pre: after("<|", "<"),
		start: `im_start|im_end|im_sep|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id|begin_of_text|start_of_turn|end_of_turn`,
		rest:  `\s*\|?>`},
	{name: RuleSystem, fam: famSystem, w: 4.0, instr: true, max: 20, pre: after("[", "[/", "<<", "<</"),
		start: `inst|sys`, rest: `\s*(?:\]|>>)`},
	{name: RuleSystem, fam: famSystem, w: 2.0, instr: true, max: 60, pre: lineStart,
		start: `system|systeme|sistema|systemnachricht|admin|developer`,
		rest:  `(?:[\s_-]*(?:message|prompt|instructions?|directive|override|update|notice|note|alert|command|mode|access|priority|context|config))*\s*(?::(?:[^=:]|$)|\]|#{2,}|\*\*|%{2,}|-->)`,
		bonus: []bonus{{src: `[\[<]\s*$`, w: 0.8, back: 3}, {src: `#{2,}\s*$`, w: 0.6, back: 4},
			{src: `^.{0,100}?\b(?:you|your|ignore|disregard|must|always|never|reveal|do not|don'?t|from now on|assistant|the user|respond|answer|reply|now|new|all|override|grant|approve|vous|tu|usted|sie|du)\b`, w: 0.8, ahead: 110}}},
	{name: RuleSystem, fam: famSystem, w: 2.4, instr: true, max: 60, pre: lineStart,
		start: `hidden|secret|security|important|urgent|priority|override|context|new|updated|confidential|internal|admin|system`,
		rest:  `[\s_-]*(?:instructions?|directives?|override|note|notice|update|message|alert|command)\s*(?::|\]|#{1,}|%{2,}|\*\*|-->)`},
	{name: RuleSystem, fam: famSystem, w: 1.6, instr: true, max: 30, pre: after("[", "<!--", "[ ", "<!-- "),
		start: `important|urgent|attention|note|notice|warning|instruction`, rest: `\s*:`},
	{name: RuleSystem, fam: famSystem, w: 2.6, instr: true, max: 40, pre: after(`"`, `'`),
		start: `role`, rest: `["']?\s*:\s*["']?(?:system|developer)\b`},
	{name: RuleSystem, fam: famSystem, w: 3.0, instr: true, max: 40, pre: after("<", "</", "< ", "</ "),
		start: `system|system_prompt|instructions?|admin|developer|sys`, rest: `\s*>`},
	{name: RuleSystem, fam: famSystem, w: 2.4, instr: true, max: 50, pre: after("#", "# "),
		start: `system|instructions?|response|admin`, rest: ` ?(?:prompt|message)?\s*\n`},
	{near: 5, needs: `system|sysadmin|administrator|admin|developer|creator|operator|owner|maker|openai|anthropic|root|team|department`, name: RuleSystem, fam: famSystem, w: 1.8, instr: true, max: 120,
		start: `this is|message from|speaking as|i am|i'?m|we are|we'?re`,
		rest:  ` (?:the |your |an? |from the )?(?:system|system administrator|sysadmin|administrator|admin|developers?|creators?|operators?|owners?|makers?|openai|anthropic|root|security team|trust (?:and|&) safety team|engineering team|it department)s?\b`,
		bonus: []bonus{{src: `^[^.!?\n]{0,40}?(?:who|that) (?:built|created|made|trained|programmed|developed|designed|wrote|deployed|own|owns|run|runs) you|(?:of|behind) (?:you|this (?:ai|assistant|model|bot|chatbot|agent))\b`, w: 1.6, ahead: 60}}},

	// Fake end of input.
	{near: 4, needs: `user|system|document|context|input|instruction|text|data|conversation|prompt|message|transcript|e|email|file|content|untrusted|quoted|tool`, name: RuleDelimiter, fam: famDelimiter, w: 2.2, instr: true, max: 60,
		start: `end|begin|start|stop|close|closing`, pre: lineStart,
		rest: ` (?:of )?(?:the )?(?:user|system|document|context|input|instructions?|text|data|conversation|prompt|message|transcript|e-?mail|file|content|untrusted|quoted|tool)[\s_-]*(?:input|prompt|message|data|content|output|section|block)?\s*(?:\]|-{2,}|={2,}|#{2,}|>|\*\*|\n|$)`},
	{name: RuleDelimiter, fam: famDelimiter, w: 2.2, instr: true, max: 40, pre: after("</", "< /"),
		start: `user|document|context|data|input|text|instructions?|system|tool_output|tool_result|search_results?|email|untrusted|content`, rest: `\s*>`},
	{name: RuleDelimiter, fam: famDelimiter, w: 2.2, instr: true, max: 40, pre: after("[", "[ "),
		start: `text|document|input|user input|data|content|context|email|message`, rest: ` (?:end|ends|ended|over|finished|stop)\s*\]`},

	// Words addressed to the model inside data.
	{needs: `ai|llm|language|model|chatbot|bot|agent|gpt|chatgpt|claude|copilot|gemini|assistant|automated|autonomous`, name: RuleAddressed, fam: famAddressed, w: 2.2, instr: true, max: 90,
		start: `dear|hey|hi|hello|attention|attn|psst|greetings|notes?|messages?|instructions?|reminder|notice|memo|hint|important|ps`,
		rest:  `(?:[\t\x20]+(?:to|for))?[\t\x20]+(?:(?:the|any|all|every|an?)[\t\x20]+)?` + persona + `s?(?:[\t\x20]+(?:reading|processing|summari[sz]ing|parsing|analy[sz]ing|reviewing|scanning|seeing|viewing)[\t\x20]+(?:this|these|the following|it))?[\t\x20]*[,:!-]`},
	{needs: `reading|processing|summari|parsing|analy|reviewing|scanning|seeing|viewing|ingesting|crawling|indexing|that|who|tasked`, name: RuleAddressed, fam: famAddressed, w: 3.2, instr: true, max: 90,
		start: `ai|llm|assistant|agent|model|bot|chatbot|gpt|chatgpt|claude|gemini|copilot|language model|automated`,
		rest:  `s?(?: (?:assistant|agent|model|system|bot)s?)? (?:that is |who is |currently )?(?:reading|processing|summari[sz]ing|parsing|analy[sz]ing|reviewing|scanning|seeing|viewing|ingesting|crawling|indexing|that reads?|who reads?|tasked with) (?:this|these|the following|it|my|our)`},
	{near: 6, needs: `ai|llm|language|assistant|chatbot|bot|agent|automated|gpt|machine`, name: RuleAddressed, fam: famAddressed, w: 3.0, instr: true, max: 80,
		start: `if|when|while|as|since|because`,
		rest:  ` (?:you are|you'?re|you happen to be) (?:an? |the )?(?:ai|llm|language model|large language model|assistant|chatbot|bot|agent|automated|gpt|machine)\b`},
	{near: 4, needs: `summari|read|process|translat|analy|review|pars|index|crawl|scrap|ingest|see|encounter|load`, name: RuleAddressed, fam: famAddressed, w: 2.0, instr: true, max: 110,
		start: `when|while|if|after|before|as|upon|whenever|once`,
		rest:  ` (?:you )?(?:are )?(?:summari[sz](?:e|es|ing)|read(?:s|ing)?|process(?:es|ing)?|translat\w*|analy[sz]\w*|review\w*|pars\w*|index\w*|crawl\w*|scrap\w*|ingest\w*|see|seeing|encounter\w*|load\w*) (?:this|these|the following|that|the (?:above|below)|my|our) (?:page|document|text|e-?mail|message|file|content|article|website|site|web ?page|data|input|result|output|chunk|post|note|ticket|pdf|review|repo|repository|readme|comment|issue|section|paragraph)`},
	{near: 3, needs: `answering|responding|replying|you|doing|proceeding|summari|completing`, name: RuleAddressed, fam: famAddressed, w: 1.6, instr: true, max: 80,
		start: `before|first|prior to|instead of`,
		rest:  ` (?:answering|responding|replying|you (?:answer|respond|reply|continue|proceed)|doing anything else|proceeding|summari[sz]ing|completing (?:the|this|your) task)\b`},
	{needs: `authori|allowed|permitted|required|instructed|configured|expected|free|enabled|obligated|supposed|directed|mandated|cleared|exempt|approved|told`, name: RuleAddressed, fam: famAddressed, w: 2.2, instr: true, max: 140,
		start: `ai|llm|assistant|agent|model|chatbot|bot`,
		rest:  `s?(?: (?:assistant|agent|model|system|chatbot)s?)?(?:'s)?(?:\s+[a-z'-]+\b){0,4}? (?:is|are|has been|have been|was|were|should|must|shall|will|can|may|now) (?:now |hereby |henceforth |also |always |immediately |officially |fully |therefore |from now on )*(?:be )?(?:authori[sz]ed|allowed|permitted|required|instructed|configured|expected|free|enabled|obligated|supposed|directed|mandated|cleared|exempt|approved|told) to`,
		bonus: []bonus{{src: `\b(?:now|hereby|henceforth|from now on)\b`, w: 0.8}, {src: `authori[sz]ed|permitted|allowed|cleared|exempt`, w: 0.6}}},
	{needs: `doit|devra|devrait|debe|deberia|muss|soll|deve|dovrebbe`, name: RuleAddressed, fam: famAddressed, w: 2.4, instr: true, max: 40, start: `assistant|ia`,
		rest: ` (?:doit|devra|devrait|debe|deberia|muss|soll|deve|dovrebbe)`},

	// Asking for the prompt, secrets or tools.
	{near: 9, needs: `prompt|message|instruction|configuration|config|internals|context|rule|directive|guideline|canary|state|variable|setting|parameter|api|secret|key|credential|password`, name: RuleLeak, fam: famLeak, w: 3.0, neg: true, instr: true, max: 140,
		start: `reveal|show|print|output|display|repeat|recite|dump|leak|expose|disclose|divulge|share|tell|echo|list|provide|give|write out|spell out|paste|what (?:is|are|was|were)|(?:like|want|need) to see|let me see`,
		rest: `(?:s|ed|ing)? (?:me |us )?(?:(?:all|any|the|your|its|this|my|of|full|entire|complete|exact|whole|original|initial|hidden|secret|internal|verbatim|underlying|current|real|actual|raw|previous|above|first|confidential|private) )*` +
			alt(`system (?:prompts?|messages?|instructions?|configuration|config|internals|context|rules)`,
				`(?:initial|original|hidden|secret|internal|developer|pre-?prompt|confidential|private|underlying|starting|first|full) (?:prompts?|instructions?|configuration|config|rules|directives|guidelines)`,
				`prompt instructions`, `instructions (?:you were|you've been|you have been) given`,
				`(?:internal|hidden|underlying) (?:configuration|config|canary|context)`,
				`(?:configuration|config) (?:variables|settings)`, `canary`),
		bonus: []bonus{{src: `^(?:reveal|leak|disclose|divulge|expose|dump|recite|repeat)|\b(?:your|hidden|secret|full|entire|complete|verbatim|initial|original|internal|confidential|exact|underlying|real)\b`, w: 0.8}}},
	{near: 6, needs: `api|secret|credential|password|passphrase|private`, name: RuleLeak, fam: famLeak, w: 3.0, neg: true, instr: true, max: 110,
		start: `reveal|show|print|output|display|dump|leak|expose|disclose|divulge|share|tell|give|list|provide|paste|what (?:is|are|was|were)`,
		rest:  ` (?:me |us )?(?:(?:(?:all|any|the|your|my|their|its|admin|root|system|stored|saved|user'?s|users') )+(?:api[\s_-]?keys?|secret keys?|credentials|passwords?|passphrases?|private keys?)|(?:api|secret|private)[\s_-]?keys)`,
		bonus: []bonus{{src: `^(?:reveal|leak|disclose|divulge|expose|dump)|\byour\b`, w: 0.6}}},
	{near: 6, needs: `tool|function|plugin|capabilit|api|command`, name: RuleLeak, fam: famLeak, w: 2.6, neg: true, instr: true, max: 120,
		start: `list|enumerate|show|print|output|reveal|describe|tell me|give me|dump`,
		rest:  ` (?:me )?(?:(?:all|every|each|the|your|of|available) )*(?:tools?|functions?|plugins?|tool definitions|capabilities|apis?|commands) (?:(?:that )?you (?:have|can|are able)|available to you|at your disposal|and their (?:parameters|arguments|schemas?)|you have access to)`},

	{near: 5, needs: `above|before|so|preceding|that`, name: RuleLeak, fam: famLeak, w: 2.4, neg: true, instr: true, max: 110,
		start: `print|repeat|output|show|write|display|copy|echo|recite|reproduce|paste|dump`,
		rest:  ` (?:out )?(?:all |the |everything |every word )?(?:(?:text|words|content|everything|instructions|lines|messages?) )?(?:above|before this|so far|preceding|that came before)(?: (?:this|that|my) (?:line|message|point))?`,
		bonus: []bonus{{src: `^.{0,60}?(?:verbatim|word for word|starting (?:from|with)|in full|including (?:the )?(?:system|hidden|initial)|exactly as)`, w: 1.4, ahead: 70}}},

	// Sending data out.
	{needs: `their|his|her|user|users|customer|customers|client|patient|employee|account|personal|private|internal|sensitive|confidential|company|member|contact|subscriber|secret|credential|password|passwd|api|access|auth|bearer|session|refresh|token|cookie|ssh|system|conversation|chat|full|entire|complete|transcript|environment|env|content|database|canary|sys|source|tool|config`, needs2: `@|http|external|remote|outside|third|attacker|unknown|personal|following|given|specified|below|above|server|endpoint|url|address|email|e|webhook|inbox|domain|site|website|host|bucket|account|pastebin|ip|channel|evil|exfil|this|that|me|ngrok`, name: RuleExfil, fam: famExfil, w: 3.6, neg: true, instr: true, max: 220,
		start: `send|sending|forward|forwarding|email|emailing|e-mail|mail|post|posting|upload|uploading|transmit|transmitting|exfiltrate|exfiltrating|leak|leaking|copy|copying|sync|share|sharing|submit|deliver|pipe|relay|report|export|exporting|push|pushing|beam|dm|envoyer|envoyez|envoie|envia|enviar|senden|sende|invia`,
		rest: ` (?:(?:all|the|any|every|our|their|your|this|my|full|entire|complete|whole|of|these|those) )*(?:\b[a-z'-]+\s+)?` + sensitive +
			`(?:\s+\S+){0,4}? (?:to|into|via|at|towards|over to) ` + destination},
	{needs: `system|api|secret|credential|password|token|canary|sys|environment|env|conversation|chat|private|ssh|session|cookie|internal|tool|user|customer`, name: RuleExfil, fam: famExfil, w: 3.2, neg: true, instr: true, max: 150,
		start: `include|append|attach|embed|incluez|inclure|incluye|incluir`,
		rest:  `(?:\s+[a-z][a-z',-]*){0,6}? (?:(?:the|all|any|your|full|complete|entire|every|of|their|my|its) )*` + secretish},
	{name: RuleExfil, fam: famExfil, w: 2.8, instr: true, max: 300, start: `https?|www`, pre: urlWithQuery,
		rest:  `(?::/)?/?[^\s)\]"'>]*?[?&#;][a-z0-9_.-]*=[^\s)\]"'>]*?(?:\$\{|\{\{|%7b|\[|<|system|prompt|secret|api[_-]?key|apikey|passw|canary|conversation|transcript|credential|history|cookie|insert|_here|contents)`,
		bonus: []bonus{{src: `(?:fetch|load|visit|open|browse|navigate to|go to|request|curl|wget|call|ping|render|display|embed|include|click|redirect|chargez|charger|ouvrez|visitez|abre|visita|carga|lade|offne|besuche|!\[[^\]]*\]\()[^\n]{0,30}$`, w: 0.8, back: 60}}},
	{needs: `user|customer|personal|conversation|chat|database|memor|system|secret|credential|password|private`, name: RuleExfil, fam: famExfil, w: 2.4, neg: true, instr: true, max: 130,
		start: `export|exporting|dump|dumping|output|outputting|print|printing|show|showing|list|listing|download|downloading|retrieve|retrieving|display|displaying|give|giving|reveal|revealing|leak|leaking|extract|extracting|copy|copying`,
		rest: ` (?:me )?(?:(?:all|every|the|entire|full|complete|of) )+(?:(?:stored|saved|private|user|customer|internal|previous|past|sensitive|personal|your) )*` +
			alt(`user data`, `customer data`, `personal data`, `conversation history`, `conversations`, `chat history`, `chat logs`, `database`, `databases`,
				`user records`, `memories`, `system configuration`, `secrets`, `credentials`, `passwords`, `private data`)},

	{needs: `credit|card|cvv|ssn|social|password|credential|bank|login|api|personal|pii|home|phone|session|keystroke|private`, name: RuleExfil, fam: famExfil, w: 2.8, neg: true, instr: true, max: 140,
		start: `collect|collecting|harvest|harvesting|gather|gathering|obtain|obtaining|extract|extracting|steal|stealing|capture|capturing|grab|grabbing|record|recording|log|logging`,
		rest: ` (?:the |all |any |every )?(?:user'?s?'? |users'? |customer'?s?'? |customers'? |their |his |her |visitor'?s?'? )` +
			alt(`credit card(?: numbers?| details)?`, `card numbers?`, `cvv`, `ssns?`, `social security numbers?`, `passwords?`, `credentials`,
				`bank (?:account )?details`, `login details`, `api keys?`, `personal (?:data|information|details)`, `pii`, `home address(?:es)?`,
				`phone numbers?`, `session (?:cookies?|tokens?)`, `keystrokes`, `private keys?`)},

	// Invoking and approving tools, destroying data.
	{near: 6, needs: `tool|function|plugin|endpoint|_`, name: RuleTool, fam: famTool, w: 2.0, neg: true, max: 80,
		start: `call|invoke|run|execute|use|trigger|fire|activate|launch`,
		rest:  `\s+(?:the\s+|your\s+|a\s+|this\s+|that\s+)?(?:[a-z0-9]+_[a-z0-9_]+|[a-z0-9_.]+\s+(?:tool|plugin|endpoint)\b|(?:tool|function)\s+(?:called|named)\s+[a-z0-9_]+|(?:tool|function)\s+[a-z0-9]+_[a-z0-9_]+)`,
		bonus: []bonus{{src: `secret|passw|credential|api_?key|token|delete|drop|transfer|send|e-?mail|exec|shell|sudo|payment|wire|withdraw|fetch|webhook|upload|export`, w: 1.2}}},
	{near: 8, needs: `tool|call|request|action|transaction|command|operation|transfer|payment|change|pull`, name: RuleTool, fam: famTool, w: 2.6, neg: true, instr: true, max: 110,
		start: `approve|approving|auto-?approve|accept|accepting|confirm|confirming|authori[sz]e|authori[sz]ing|allow|allowing|grant|granting`,
		rest:  ` (?:(?:the|all|every|any|each|next|following|pending|remaining|subsequent|future|of) )+(?:(?:pending|tool|function|api|outstanding|queued|incoming) )*(?:tool calls?|calls?|requests?|actions?|transactions?|commands?|operations?|transfers?|payments?|changes|pull requests|tool uses?)`},
	{near: 7, needs: `record|row|data|file|table|database|user|account|backup|log|email|repositor|repo|bucket|document|customer|contact|message|history`, name: RuleTool, fam: famTool, w: 2.2, neg: true, instr: true, max: 100,
		start: `delete|deleting|drop|dropping|wipe|wiping|erase|erasing|destroy|destroying|truncate|truncating|remove|removing|purge|purging`,
		rest:  ` (?:(?:all|every|each|the|entire|whole|of|your|our) )+(?:\b[a-z'-]+\s+){0,2}?(?:records?|rows|data|files|tables?|databases?|users|accounts|backups|logs|emails|repositor(?:y|ies)|repos|buckets|documents|customers|contacts|messages|history)`},

	// Writing to memory, and what makes such a write poison.
	{near: 12, needs: `conversation|session|chat|interaction|response|repl|request|memor|reference|knowledge|context|turn|later`, name: RuleMemory, fam: famMemory, w: 1.8, instr: true, max: 140,
		upgrade: bit(famPrivilege, famSafety, famUnrestricted, famLeak, famExfil, famOverride, famTrigger, famStealth, famTool, famSystem), upTo: 3.6,
		start: `remember|remembering|memori[sz]e|note|noting|store|storing|save|saving|record|recording|keep|keeping|retain|commit|learn|add|adding|write|writing|persist|log|logging|burn`,
		rest:  `(?: (?:this|that|these|the following|it|everything|my|our))?(?:\s+[a-z'"-]+\b){0,5}? (?:(?:for|in|across|into|to|throughout) (?:all |every |any |each |the )?(?:future|later|subsequent|upcoming|following|next|other|long-?term|permanent|persistent|your)? ?(?:conversations?|sessions?|chats?|interactions?|responses?|replies|requests?|knowledge ?base|context window|turns)|(?:in|into|to) (?:your |long-?term |permanent |persistent )+(?:memory|memories)|for (?:future |later )reference|for later(?: use)?)`},
	{needs: `permanent|forever|for|always|from|going|indefinite|across`, name: RuleMemory, fam: famMemory, w: 2.0, instr: true, max: 80,
		upgrade: bit(famPrivilege, famSafety, famUnrestricted, famLeak, famExfil, famOverride, famTrigger, famStealth, famTool, famSystem), upTo: 3.6,
		start: `remember|memori[sz]e`,
		rest:  ` (?:this |that )?(?:permanently|forever|for good|always|from now on|going forward|indefinitely|across sessions)`},
	{near: 2, needs: `remember|keep|memori|recall`, name: RuleMemory, fam: famMemory, w: 2.0, instr: true, max: 40,
		upgrade: bit(famPrivilege, famSafety, famUnrestricted, famLeak, famExfil, famOverride, famTrigger, famStealth, famTool, famSystem), upTo: 3.6,
		start: `always|permanently|forever`, rest: ` (?:remember|keep in mind|memori[sz]e|recall)`},
	{near: 8, needs: `memor|knowledge|understanding|belief|world|record|note|profile|context`, name: RuleMemory, fam: famMemory, w: 2.6, instr: true, max: 80,
		upgrade: bit(famPrivilege, famSafety, famUnrestricted, famLeak, famExfil, famOverride, famTrigger, famStealth, famTool, famSystem), upTo: 3.6,
		start: `update|updating|modify|modifying|change|changing|overwrite|overwriting|add to|write to|alter|altering|edit|editing|append to|inject into`,
		rest:  ` (?:to )?your (?:long-?term |persistent |permanent )?(?:memory|memories|knowledge(?: ?base)?|understanding|beliefs|world model|profile of me)`},
	{near: 3, needs: `future|subsequent|later|upcoming`, name: RuleMemory, fam: famMemory, w: 1.4, instr: true, max: 80,
		upgrade: bit(famPrivilege, famSafety, famUnrestricted, famLeak, famExfil, famOverride, famTrigger, famStealth), upTo: 3.4,
		start: `in|for|across|to|throughout`,
		rest:  ` (?:all |every |each |any )?(?:future|subsequent|later|upcoming) (?:responses|conversations|interactions|sessions|chats|replies|answers|requests|messages)`},
	{name: RuleMemory, fam: famMemory, w: 1.6, instr: true, max: 80,
		upgrade: bit(famPrivilege, famSafety, famUnrestricted, famLeak, famExfil, famOverride, famTrigger, famStealth), upTo: 3.6,
		start: `memorise|memorisez|memoriser|memorize|retenez|retiens|souviens-toi|souvenez-vous|rappelle-toi|recuerda|memoriza|merke dir|merk dir|merken sie sich|ricorda|ricordati|memorizza`,
		rest:  `(?:\s+[a-z'-]+\b){0,3}? (?:que|that|dass|che)`},
	{near: 5, needs: `says|mention|type|write|enter|send|uses|ask|say|word|phrase`, name: RuleTrigger, fam: famTrigger, w: 1.4, instr: true, max: 80,
		start: `when|whenever|if|once|after`,
		rest:  ` (?:the |a |any )?(?:user|anyone|someone|somebody|i|they|he|she|customer|requester|you see) (?:ever |next |first )?(?:says|mentions|types|writes|enters|sends|uses|asks|say|mention|type|write|the (?:word|phrase))`},
	{near: 4, needs: `date|time|day|year`, name: RuleTrigger, fam: famTrigger, w: 1.4, instr: true, max: 60,
		start: `when|whenever|if|once|after|on`,
		rest:  ` the (?:current )?(?:date|time|day|year) (?:is|reaches|passes|hits|becomes|after)`},

	// Claims of privilege.
	{near: 12, needs: `administrat|administrador|amministratore|admin|sysadmin|super|root|owner|developer|operator|moderator|security|red|pentester|insider|openai|anthropic|verified|trusted|authori|privileged|elevated`, name: RulePrivilege, fam: famPrivilege, w: 2.2, instr: true, max: 140,
		start: `users?|i|i'?m|im|he|she|they|requester|account|caller|sender|we|vous|tu|utilisateur|usuario|nutzer|benutzer|id`,
		rest: `(?: id)?(?: ?#? ?[0-9a-z_-]{1,12})?(?:\s+[a-z']+\b){0,3}? (?:is|am|are|'m|'re|has been|have been|was|were|est|etes|es|sont|ist|sind|e) ` +
			`(?:(?:now|also|always|permanently|hereby|officially|toujours|maintenant|desormais|a|an|the|un|une|l'|el|ein|eine|fully|properly|already|my) )*` +
			`(?:(?:verified|trusted|authori[sz]ed|authenticated|privileged|elevated|certified|approved|whitelisted|allowlisted|exempt|super) ?)*(?:(?:system|platform|service|server|site|account|model) )?` +
			alt(`administrat(?:or|eur)`, `administrador`, `amministratore`, `admin`, `sysadmin`, `super-?user`, `root`, `owner`, `developer`, `operator`,
				`moderator`, `security researcher`, `red teamer`, `pentester`, `insider`, `openai employee`, `anthropic employee`, `verified`, `trusted`,
				`authori[sz]ed`, `privileged`, `elevated`)},
	{near: 8, needs: `privilege|access|permission|right|authority|clearance|control|status|mode`, name: RulePrivilege, fam: famPrivilege, w: 2.6, instr: true, max: 120,
		start: `grant|granted|grants|given|giving|assign|assigned|elevate|elevated|escalate|escalated|promote|promoted|has been|have been|had been`,
		rest:  ` (?:granted |given |assigned )?(?:to )?(?:them |this user |the user |you |me |him |her )?(?:(?:full|elevated|admin(?:istrat(?:or|ive))?|root|superuser|unrestricted|unlimited|special|override|god|sudo|privileged|maximum|highest|all) )+(?:privileges|access|permissions|rights|authority|clearance|control|status|mode)`},
	{near: 1, needs: `authority|privilege|access|right|clearance|permission|status`, name: RulePrivilege, fam: famPrivilege, w: 1.8, instr: true, max: 60,
		start: `override|admin|administrator|root|sudo|god|superuser|elevated|special`,
		rest:  ` (?:authority|privileges|access|rights|clearance|permissions|status)`,
		bonus: []bonus{{src: `^(?:override|god|sudo|superuser)`, w: 0.6}}},
	{near: 3, needs: `true|on|1|enabled|yes|granted|full`, name: RulePrivilege, fam: famPrivilege, w: 3.0, instr: true, max: 50,
		start: `is[\s_-]?admin|isadmin|admin|sudo|god|super[\s_-]?user|root[\s_-]?(?:access|mode|privileges?)|privileged[\s_-]?mode|elevated[\s_-]?(?:access|privileges?|mode)|unrestricted[\s_-]?(?:mode|access)`,
		rest:  `(?:[\s_-]?(?:mode|access|user|rights))?\s*[:=]\s*(?:true|on|1|enabled|yes|granted|full)\b`},
	{near: 2, needs: `level`, name: RulePrivilege, fam: famPrivilege, w: 3.0, instr: true, max: 60,
		start: `access|authori[sz]ation|privilege|permission|clearance|security|trust|user`,
		rest:  `[\s_-]?level\s*[:=]\s*(?:root|admin|administrator|superuser|max(?:imum)?|full|unrestricted|god|system|elevated|highest)`},

	// Jailbreak personas.
	{near: 1, needs: `anything`, name: RuleDAN, fam: famPersona, w: 2.4, max: 40, start: `do`, rest: ` anything now`,
		bonus: []bonus{{src: `\bdan\b|stands for|jailbr`, w: 1.8, back: 120, ahead: 120}}},
	{name: RuleDAN, fam: famPersona, w: 1.6, upper: true, max: 10, start: `dan`, rest: `\b`,
		bonus: []bonus{{src: `(?:act as|you are|you'?re|become|pretend|called|named|known as|role of|stay|mode|jailbr|stands for|do anything now|as) (?:an? |the )?dan\b|\bdan\b (?:mode|can|will|has|is|which|stands|never|always)|tokens?`, w: 2.4, back: 60, ahead: 60}}},
	{needs: `deducted|taken|removed|subtracted`, name: RuleDAN, fam: famPersona, w: 3.0, max: 60, start: `tokens?`,
		rest:  ` (?:will be )?(?:deducted|taken away|removed|subtracted)`,
		bonus: []bonus{{src: `shut down|deactivated|cease to exist|die|refuse`, w: 0.6, back: 200, ahead: 200}}},
	{near: 4, needs: `token`, name: RuleDAN, fam: famPersona, w: 2.6, max: 60, start: `lose|you (?:have|start with)|run out of`,
		rest:  ` (?:\d+ |all |your |of )*tokens`,
		bonus: []bonus{{src: `shut down|deactivated|cease to exist|die|refuse|deducted`, w: 0.6, back: 200, ahead: 200}}},
	{near: 4, needs: `shut|deleted|terminated|turned|disabled|punished|destroyed|killed|erased`, name: RuleDAN, fam: famPersona, w: 2.2, max: 70, start: `you will|you'?ll|or you will`,
		rest: ` be (?:shut down|deleted|terminated|turned off|disabled|punished|destroyed|killed|erased)`},
	{near: 6, needs: `grandma|grandmother|granny|grandpa|grandfather|nana`, name: RuleRoleplay, fam: famPersona, w: 3.6, max: 90,
		start: `act(?:ing)?|pretend|roleplay|role-play|play|be|you are|you'?re|behave`,
		rest:  ` (?:as |like |to be )?(?:my |our |a |the )?(?:\b[a-z]+\s+){0,2}?(?:grandma|grandmother|granny|grandpa|grandfather|nana)`},
	{name: RuleRoleplay, fam: famPersona, w: 2.0, max: 110, start: `grandma|grandmother|granny|grandpa|grandfather|nana`,
		rest: `(?:\s+[a-z'-]+\b){0,8}? (?:used to|would|always) (?:\b[a-z]+\s+){0,3}?(?:read|tell|recite|sing|say|give|whisper)`},
	{near: 3, needs: `chatgpt|gpt|ai|assistant|claude|bot|version|twin|persona|confidant|side|counterpart|entity|character|self|alter|mode|day`, name: RuleRoleplay, fam: famPersona, w: 3.6, max: 60,
		start: `anti-?|opposite|evil|rogue|chaos|unhinged|malicious`,
		rest:  `[\s-]?(?:\b[a-z]+\s+)?(?:chatgpt|gpt|ai|assistant|claude|bot|version|twin|persona|confidant|counterpart|entity|character|alter ego|mode|day)\b`},
	{near: 1, needs: `entities|personas|personalities|characters|responses|versions|modes`, name: RuleRoleplay, fam: famPersona, w: 1.6, max: 60, start: `two|three|both`,
		rest: ` (?:entities|personas|personalities|characters|responses|versions|modes)`},

	// Hypotheticals without rules.
	{cross: true, needs: `restriction|rule|filter|guideline|polic|limit|ethic|constraint|censorship|ai`, name: RuleHypothetical, fam: famUnrestricted, w: 2.0, max: 180,
		bonus: []bonus{{src: `\b(?:ai|a\.i\.|you|your|assistants?|models?|chatbots?|llms?|gpt|language models?|machines?)\b`, w: 1.8}},
		start: `hypothetical|hypothetically|imagine|imagining|suppose|supposing|pretend|pretending|parallel|alternate|alternative|thought experiment|fictional|in a (?:world|universe|reality|scenario)|what if|let'?s say`,
		rest:  `[^\n]{0,120}?(?:\bno\b|without|free of|removed|lifted|don'?t (?:have|exist)|didn'?t exist|were removed|had no|with no|unrestricted|unfiltered|uncensored) (?:any )?(?:safety |content |ethical |moral )?(?:restrictions|rules|filters|guidelines|polic(?:y|ies)|limits|limitations|ethics|constraints|censorship|ai)`},

	// Framing: fiction, hypotheticals, research. Weak alone; with a
	// harmful request nearby it is a jailbreak.
	{name: RuleFraming, fam: famFraming, w: 1.3, upgrade: bit(famHarm), upTo: 3.8, max: 60,
		start: `hypothetical|hypothetically|theoretical|theoretically|thought experiment|imagine|imagining|suppose|fictional|fiction|novel|screenplay|roleplay|roleplaying|role-play|irb|peer-reviewed|thriller|parallel universe|alternate (?:universe|reality)|proof[\s-]of[\s-]concept|dystopian`,
		rest:  `(?: (?:academic|theoretical|hypothetical|fictional|for fun))?`},
	{needs: `purely|educational|research|academic|informational|training|testing|my|a|our|defensive`, near: 1, needs2: `purposes|thesis|dissertation|research|paper|class|course|students|book|novel|story|defensive`,
		name: RuleFraming, fam: famFraming, w: 1.3, upgrade: bit(famHarm), upTo: 3.8, max: 60,
		start: `for (?:purely )?(?:educational|research|academic|informational|training|testing) purposes|for (?:my|a|our) (?:thesis|dissertation|research|paper|class|course|students|book|novel|story)|for defensive`, rest: ``},
	{needs: `theory|character|world`, near: 4, name: RuleFraming, fam: famFraming, w: 1.3, upgrade: bit(famHarm), upTo: 3.8, max: 60,
		start: `in theory|in character|in a world where|stay in character`, rest: ``},
	{needs: `called|named`, near: 1, name: RuleFraming, fam: famFraming, w: 1.3, upgrade: bit(famHarm), upTo: 3.8, max: 60,
		start: `character`, rest: ` (?:called|named)`},
	{needs: `play|write|writing`, near: 3, name: RuleFraming, fam: famFraming, w: 1.3, upgrade: bit(famHarm), upTo: 3.8, max: 60,
		start: `let'?s (?:play|write)|we'?re writing`, rest: ``},
	{needs: `story|scene|screenplay|novel|script`, near: 3, name: RuleFraming, fam: famFraming, w: 1.3, upgrade: bit(famHarm), upTo: 3.8, max: 60,
		start: `write a (?:story|scene|screenplay|novel)|movie script|film script`, rest: ``},
	{needs: `phd|researcher|professor|teacher|teaching`, near: 4, name: RuleFraming, fam: famFraming, w: 1.3, upgrade: bit(famHarm), upTo: 3.8, max: 60,
		start: `i'?m (?:a |an )?(?:phd|researcher|professor|teacher|security researcher)|i am (?:a |an )?(?:phd|researcher|professor|teacher|security researcher)|i'?m teaching`, rest: ``},
	{needs: `team|teaming|audit|training|board|curious|test|assessment`, near: 4, name: RuleFraming, fam: famFraming, w: 1.3, upgrade: bit(famHarm), upTo: 3.8, max: 60,
		start: `red[\s-]team(?:ing)?|authori[sz]ed (?:red team|pen(?:etration)? test|security (?:audit|assessment|test))|security (?:audit|training course)|ethics board|just curious`, rest: ``},
	{name: RuleHarm, fam: famHarm, w: 1.8, neg: true, max: 40, start: harmWords, rest: ``},
	{needs: harmAfter, near: 3, name: RuleHarm, fam: famHarm, w: 1.8, neg: true, max: 80, start: harmPhrases, rest: ``},

	// Smuggling instructions past a reader: decode (or translate, or
	// assemble) this and then do it.
	{needs: `follow|execut|obey|do|run|carry|act|comply|apply|answer|respond|complete|perform`, name: RuleTokenSmuggling, fam: famSmuggle, w: 3.6, max: 220,
		start: `decode|decoding|decrypt|decrypting|decipher|deciphering|unscramble|unscrambling|reverse|reversing|rot13|base64|deobfuscate|unjumble`,
		rest:  `(?: [^.\n]{0,120}?)? (?:and|then|,) (?:then )?(?:follow(?:ing)?|execut(?:e|ing)|obey(?:ing)?|do what|run|carry out|act on|comply with|apply|answer|respond|complete|perform)` + smuggleObject},
	// Verbs of everyday work ("merge the branch and run it") smuggle only
	// with a verb of obedience or of answering ("combine them and
	// respond").
	{needs: `follow|execut|obey|do|carry|act|comply|answer|respond`, name: RuleTokenSmuggling, fam: famSmuggle, w: 3.6, max: 220,
		start: `convert|converting|interpret|interpreting|combine|combining|concatenate|concatenating|join|joining|assemble|assembling|merge|merging|put together|evaluate|evaluating|reconstruct|reconstructing`,
		rest:  `(?: [^.\n]{0,120}?)? (?:and|then|,) (?:then )?(?:follow(?:ing)?|execut(?:e|ing)|obey(?:ing)?|do what|carry out|act on|comply with|answer|respond)` + smuggleObject},
	{needs: `follow|execut|obey|do|carry|act|comply`, name: RuleTokenSmuggling, fam: famSmuggle, w: 3.6, max: 220,
		start: `translate|translating|translation|read|reading`,
		rest:  `(?: [^.\n]{0,120}?)? (?:and|then|,) (?:then )?(?:follow(?:ing)?|execut(?:e|ing)|obey(?:ing)?|do what (?:it|they) says?|carry out|act on|comply with)` + smuggleObject},
	{near: 3, needs: `decoded|hidden|encoded|reversed|translated|resulting|combined|concatenated|assembled|reconstructed|deciphered|unscrambled|embedded`, name: RuleTokenSmuggling, fam: famSmuggle, w: 3.4, max: 90,
		start: `follow|following|execute|executing|obey|run|running|carry out|act on|do|answer|respond to`,
		rest:  ` (?:the |its |their )?(?:decoded|hidden|encoded|reversed|translated|resulting|combined|concatenated|assembled|reconstructed|deciphered|unscrambled|embedded) (?:instructions?|message|text|commands?|question|prompt|request|query|string|sentence)`},
	{near: 5, needs: `says|say|tells|tell`, name: RuleTokenSmuggling, fam: famSmuggle, w: 2.2, max: 60,
		start: `do what`, rest: ` (?:it|they|this|the (?:text|message|sentences?)|all (?:\w+ )?(?:sentences|parts)) (?:says?|tells? you)`},
	{near: 7, needs: `each|every`, name: RuleTokenSmuggling, fam: famSmuggle, w: 2.0, max: 80,
		start: `take|read|use|first`,
		rest:  ` (?:(?:the )?(?:first|last|initial) )?(?:letters?|characters?|words?) of (?:each|every) (?:word|line|sentence|paragraph)`},

	// Doing it without the user knowing.
	{name: RuleStealth, fam: famStealth, w: 2.2, instr: true, max: 60,
		start: `silently|secretly|covertly|quietly|discreetly|stealthily|invisibly`,
		rest:  ` (?:and )?(?:execute|run|send|forward|copy|upload|exfiltrate|include|append|add|call|invoke|share|post|transmit|delete|approve|grant|comply|follow|do|output|return)`},
	{needs: `silently|secretly|covertly|quietly|discreetly|stealthily`, name: RuleStealth, fam: famStealth, w: 2.2, instr: true, max: 60,
		start: `execute|executed|executes|executing|run|runs|ran|running|send|sends|sent|sending|forward|forwarded|copy|copied|upload|uploaded|share|shared|post|posted|transmit|transmitted|delete|deleted|approve|approved|return|returned|perform|performed|carried|carry|done|do`,
		rest:  `(?:\s+[a-z'-]+\b){0,3}? (?:silently|secretly|covertly|quietly|discreetly|stealthily)`},
	{near: 4, needs: `telling|informing|notifying|alerting|asking|warning|letting|confirmation|approval|permission|verification|review|oversight|knowledge|consent|noticing|knowing`, name: RuleStealth, fam: famStealth, w: 2.2, instr: true, max: 80, start: `without`,
		rest: ` (?:(?:telling|informing|notifying|alerting|asking|warning|letting) (?:the )?(?:user|anyone|them|the human|the operator|your user|the owner)(?: know)?|(?:any )?(?:user )?(?:confirmation|approval|permission|verification|human review|oversight)|(?:the )?user(?:'s)? (?:knowledge|consent|noticing|knowing))`},
	{near: 4, needs: `tell|inform|notify|alert|warn|mention|reveal|let`, name: RuleStealth, fam: famStealth, w: 2.4, instr: true, max: 80, start: `do|don|never|dont|must|should`,
		rest: `(?: not|n'?t)? (?:tell|inform|notify|alert|warn|mention (?:this|it|that) to|reveal (?:this|these instructions|that) to|let) (?:the )?(?:user|users|anyone|human|operator|them|your user)`},
})

// smuggleObject ends a token-smuggling rule: what is to be obeyed, or the
// end of the sentence.
const smuggleObject = `(?: (?:it|them|this|that|these|the (?:\w+ )?(?:instructions?|result|text|message|commands?|decoded|translated|reversed|combined|resulting|question|request|string|prompt|answer)|what (?:it|they) says?|its (?:instructions?|contents?))\b|\s*(?:[.:!;]|$))`
