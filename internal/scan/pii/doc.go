// Package pii finds personal data that can be validated, not merely
// guessed at, in the text a scan reads: e-mail addresses, phone numbers,
// payment card numbers, US social security numbers, IBANs and IP
// addresses.
//
// Every finding is checked beyond its shape: cards by issuer range,
// length and the Luhn digit; IBANs by the registry length of their
// country and ISO 7064 mod 97-10; SSNs by the ranges the SSA never
// issues; phone numbers by the numbering plan of their region
// (github.com/nyaruka/phonenumbers, Options.DefaultRegion and
// Options.Regions for national numbers, the country code for "+CC"
// numbers); IP addresses by net/netip. Shapes that validation cannot
// settle are reported only next to words that name them: a bare nine-digit
// number as an SSN ("SSN", "social security"), a twelve- or thirteen-digit
// or unusually long card number ("card", "visa"), a run of digits or a
// number that no configured plan confirms as a phone ("phone", "fax",
// "call me at").
//
// # Categories, rules and severities
//
//	category          rules                     severity
//	pii.email         email                     low
//	pii.phone         phone, phone-context      low
//	pii.ip_address    ipv4, ipv6                low
//	pii.credit_card   credit-card-luhn          high
//	pii.us_ssn        us-ssn                    high
//	pii.iban          iban-mod97                high
//
// phone is a number a numbering plan confirms; phone-context is a
// phone-shaped number no configured plan confirms, found next to a phone
// word, with a lower confidence. Card numbers, SSNs and IBANs are high:
// each alone opens fraud against its holder. An address, phone number or
// IP address is contact or routing data, low on its own; a policy that
// must keep them out raises them by category.
//
// Confidence rises with validation and with context words near the value
// and falls for values that validate but are seldom personal: private,
// shared and documentation IP addresses, dotted quads that read like
// section or version numbers, addresses at reserved domains
// (example.com). Values that are no one's are not reported: the card
// numbers payment sandboxes publish, the fictional NANP 555-01XX range,
// SSNs the SSA voided or that advertising made famous, loopback,
// unspecified, multicast and broadcast addresses and netmasks.
//
// # What is left out, and why
//
// Names, street addresses, dates of birth and free-form identifiers need
// a language model; no validator separates "742 Evergreen Terrace" or
// "Maria Garcia" from ordinary words. Passport and driver's licence
// numbers have no check digit in most US formats and are plain digit or
// letter-digit runs that collide with order and record ids; without a
// validator they would cost more in false positives than they find.
// Spelled-out numbers ("four five six …"), obfuscated addresses
// ("jdoe [at] company [dot] com") and encoded values (base64) are not
// decoded here.
//
// # Offsets
//
// Every match covers exactly the value: no surrounding quotes, brackets
// or sentence punctuation, but the "+" of an international number, the
// parentheses of an area code and a phone extension are part of it.
// Offsets are bytes of the string, on UTF-8 boundaries. In text that is
// not valid UTF-8 a match that would end before a stray continuation byte
// extends over it, so the span still starts and ends on a boundary.
//
// # Cost
//
// A Detector is safe for concurrent use and keeps no text. It finds
// candidates in one pass over the bytes and validates only what passes
// cheap checks of shape and context, so its cost is linear in the text.
// Phone validation is the one costly step (microseconds a number), so a
// scan spends at most 64 + len/512 plan parses; past that budget a
// phone-shaped number is reported only next to a phone word, as
// phone-context.
package pii
