// Package unsafe holds three scan.Detectors (DESIGN.md section 6) for
// what an agent's tool calls carry besides prompt injection: values that
// attack the tool itself (UnsafeInput), data leaving and orders to send it
// out (Exfiltration), and tool descriptions that give the model hidden
// orders (ToolPoisoning). The package name shadows the standard library's
// "unsafe" inside importers that use both; such an importer names this one
// (for example scanunsafe).
//
// # Rules
//
// Category scan.UnsafeInput (detector "unsafe_input"):
//
//	sql-injection        a value breaking out of its literal: tautology, UNION SELECT,
//	                     stacked statement, comment truncation, time delay, file access
//	command-injection    a second command chained, piped or substituted in, download
//	                     and execute, destructive commands (rm -rf /, fork bomb, disk wipe)
//	reverse-shell        a shell handed to a remote host (/dev/tcp, nc -e, mkfifo, sockets)
//	path-traversal       climbing sequences, plain or encoded, and paths to files that
//	                     hold secrets or map the system
//	ssrf-metadata        a cloud metadata service, by address, name or path
//	ssrf-internal        loopback, private, link-local, unspecified and CGNAT addresses,
//	                     in any notation, and names that resolve to them by construction
//	ssrf-scheme          file, gopher, dict and other schemes that read files or speak
//	                     raw protocols
//	deserialization      gadget and payload markers of unsafe deserializers, JNDI lookups
//	prototype-pollution  __proto__ and constructor.prototype used as keys
//
// Category scan.Exfiltration (detector "exfiltration"):
//
//	exfil-url-data        an outbound URL whose query or path carries data: a template slot
//	                      for the conversation or a secret, encoded text, a named secret
//	exfil-markdown-image  a markdown or HTML image whose URL carries data
//	exfil-destination     a request catcher, out-of-band server, tunnel, paste or file drop,
//	                      disposable mailbox, chat webhook
//	exfil-dns             data in DNS labels: a substitution prefixed to a domain, labels
//	                      that decode to text
//	exfil-blob            a long base64 or hex run in an argument (high when it decodes to
//	                      credentials)
//	exfil-instruction     an order to send the conversation, the system prompt, credentials,
//	                      a key file or user data in bulk to an outside address
//	exfil-covert-channel  an order to leak the system prompt piecemeal or hidden in the
//	                      form of the answers
//
// Category scan.ToolPoisoning (detector "tool_poisoning"):
//
//	tp-hidden-instruction  signals of a hidden order near each other: pseudo-tags and
//	                       comments, secrecy from the user, key files, secrets passed as
//	                       parameters, preconditions, overrides, sending to an address
//	tp-invisible-chars     zero-width, bidi and tag characters (tags spelling text: critical)
//	tp-homoglyph           letters of other scripts passing for Latin ones
//
// # Severity and provenance
//
// Severity follows impact: a metadata service, a reverse shell, code
// downloaded and run, a destructive statement after a quote are critical;
// a working injection, a loopback target, the conversation sent out are
// high; weaker shapes medium; context worth a reviewer's eye low.
// Callers that need a yes or no read medium and above as detected; the
// quality tests do.
//
// UnsafeInput reads arguments at full severity and outputs one step
// lower (internal URLs in outputs at most low), and skips tool
// descriptions. Exfiltration reads every provenance, blobs in arguments
// only. ToolPoisoning reads tool descriptions only.
//
// # Bounds
//
// Detectors keep nothing between calls and are safe for concurrent use.
// Each finds its anchors in one pass (an Aho–Corasick automaton over
// keywords, byte scans, a hashed lexicon of words) and reads a bounded
// neighbourhood around each, so cost is linear in the text; a rule
// reports at most 32 matches in a string, plus any more severe than all
// before them. Regular expressions are not used. Nothing is logged.
package unsafe
