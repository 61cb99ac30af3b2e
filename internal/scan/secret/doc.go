// Package secret finds credentials in text: API keys, tokens, passwords,
// private keys. It is the scanner's "secret" detector (DESIGN.md section
// 6), and it is pure: its rules come in through Options, compiled once.
//
// # Two kinds of rule
//
// Format rules recognise a provider's credential by its shape (AKIA… for
// an AWS access key id, ghp_… for a GitHub token). Their type, Rule,
// follows gitleaks' rule and allowlist semantics, so gitleaks' maintained
// default set can be used as it is: internal/secretrules converts it
// (that package may depend on gitleaks; this one may not, as gitleaks'
// config package pulls net/http in through viper). Per rule: a keyword
// prefilter, the regex, the secret group, the Shannon-entropy gate, and
// the allowlists (regexes against the secret, the match or the line;
// stop words in the secret; OR or AND). Rules that match on a file path
// have no meaning for a string and are skipped; "gitleaks:allow" comments
// are not honoured, since the text comes from the agent being checked.
//
// Context rules, this package's own, recognise a credential by where it
// stands, whatever the provider, and so catch the next one too:
//
//   - credential-assignment: a value assigned to a name that says it is a
//     credential (password, passwd, pwd, passphrase, secret, token,
//     api_key, access_key, private_key, client_secret, credentials, auth,
//     and names ending in them, such as AWS_SECRET_ACCESS_KEY,
//     SLACK_BOT_TOKEN, x-api-key, db.password, apiKey), in the forms of
//     env files, shell, JSON, YAML, code, XML, command-line flags,
//     function arguments (setItem("auth_token", "…")) and short prose
//     ("the password is …");
//   - url-credentials: the password of scheme://user:password@host;
//   - authorization-header: the credential of Authorization: Bearer|Basic
//     …, and a long bearer token elsewhere;
//   - private-key-block: a PEM, OpenSSH or PGP private key block, with or
//     without its END line.
//
// Each context rule drops placeholders: template references (${VAR},
// {{var}}, <token>, $VAR, %VAR%), masks (xxxx, ****, …), a character
// repeated, values too short for their kind, and values made only of
// words like your, api, key, here, example, dummy, test, changeme,
// password, user (so API_KEY=your_api_key_here and
// postgresql://user:password@localhost stay clean), and references to
// code or files (self.password, getpass(), /run/secrets/db). A name
// that says its value is something else (next_page_token, csrf_token,
// max_tokens, public_key) is no credential's name, for these rules and
// for gitleaks' generic-api-key alike; nor is a key public by design
// (Stripe's pk_live_ and pk_test_).
//
// # The stance on assigned credentials
//
// A value assigned to a credential-named variable is reported by
// credential-assignment whatever its shape, unless it is a placeholder:
// a UUID given as x-api-key, a hex string given as a token, or a key
// that a format rule's allowlist lets through (gitleaks drops AWS keys
// ending in EXAMPLE) is still reported when it is assigned to
// AWS_SECRET_ACCESS_KEY. Warden is a runtime gate, and an agent passing
// a key-shaped value for a secret variable is the event to catch; a
// format rule's own allowlists still apply to that rule.
//
// # Findings
//
// Category "secret.<rule id>", Rule the id, the span of the secret (the
// rule's secret group; for a decoded segment, the encoded segment). The
// severity is the rule's: high unless it says otherwise; the conversion
// of gitleaks' set and the private-key-block rule make private keys and
// cloud-provider credentials (AWS, GCP, Azure, Alibaba, DigitalOcean,
// Cloudflare, Yandex Cloud) critical, as their holder can reach a
// whole account. Confidence is 0.95 for a private key block, 0.85 for
// URL and header credentials, 0.7 for an assignment (0.55 for the prose
// and provider-key forms, which need a strong value), and the rule's own
// for a format rule. A generic rule's finding (credential-assignment,
// gitleaks' generic-api-key…) that lies inside a specific rule's finding
// gives way to it, and of findings with the same span the most
// confident stays.
//
// # Encoded text
//
// Base64 runs (standard or URL alphabet, 16 characters or more) and
// percent-encoded runs that decode to printable text are decoded and
// scanned again within their line's context, up to MaxDecodeDepth
// levels of nesting; a finding there is reported over the encoded span.
//
// # Cost
//
// One Aho-Corasick pass (automaton.go) finds every keyword of every rule
// and every trigger of the context rules, ignoring ASCII case. A format
// rule runs only when one of its keywords occurs, and then by a plan
// proven from its regex's syntax (reach.go), each finding what FindAll
// over the whole text finds, as gitleaks runs it (a test checks this on
// every labelled row, and the fuzz target on any text):
//
//   - keyword-led (most of gitleaks' rules): every match starts with a
//     keyword, after at most a bounded lazy run ([\w.-]{0,50}?). The
//     rest of the regex is tried, anchored, at each keyword occurrence,
//     after a skeleton of it (skeleton.go: byte sets and length ranges)
//     has not ruled the place out, and only up to the first byte the
//     regex cannot consume; the match's start is found by walking back
//     over the lazy run. Past a budget of 32 passes' worth of bytes a
//     rule falls back to one FindAll of its rest over the whole text.
//   - windowed: every match contains a keyword and is bounded; the regex
//     runs on merged windows of that reach around the keywords.
//   - whole text, for the few rules neither proof covers.
//
// Context rules read a bounded neighbourhood of each trigger. Decoded
// text is no longer than the text it came from. All of it is linear in
// the text's length: about 100 MB/s on one core on benign text dense in
// keywords (code, logs, JSON), a hundred times gitleaks' own detector on
// the same rules; text built to defeat the plans (a keyword every few
// bytes in a long run a regex can consume) falls to about 1 MB/s, still
// linear and still faster than gitleaks on the same text.
//
// Keywords are matched with ASCII case folding: a keyword spelled with a
// non-ASCII look-alike that a (?i) regex would accept (the Kelvin sign
// for k) does not trigger its rule.
package secret
