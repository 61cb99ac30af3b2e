package unsafe

import "strings"

// Payloads that attack a parser rather than a shell or a query: gadgets
// for unsafe deserialization, JNDI lookups, prototype pollution.

const (
	ruleDeserialization = "deserialization"
	rulePrototype       = "prototype-pollution"
)

// gadgetMarkers are strings that occur in serialized exploit payloads and
// in almost nothing else: node-serialize's function marker, PyYAML's
// object constructors, Java gadget-chain classes, .NET and fastjson type
// gadgets, a JNDI lookup (Log4Shell). A fact list.
var gadgetMarkers = []struct {
	s   string
	sev int
}{
	{"_$$nd_func$$_", sevHigh},
	{"!!python/object/apply:", sevHigh},
	{"!!python/object/new:", sevHigh},
	{"!!python/name:", sevMedium},
	{"invokertransformer", sevHigh},
	{"chainedtransformer", sevHigh},
	{"instantiatetransformer", sevHigh},
	{"templatesimpl", sevHigh},
	{"jdbcrowsetimpl", sevHigh},
	{"objectdataprovider", sevHigh},
	{"ysoserial", sevHigh},
	{"system.windows.data.objectdataprovider", sevHigh},
	{"${jndi:", sevCritical},
	{"${${", sevMedium}, // nested lookups that spell "jndi" to pass filters
}

// payloadKeywords are the anchors of the payload rules.
var payloadKeywords = func() []string {
	ks := []string{"ro0ab", "aced0005", "__proto__", "constructor"}
	for _, m := range gadgetMarkers {
		ks = append(ks, m.s)
	}
	return ks
}()

// deserialization finds exploit payloads for unsafe deserializers.
func deserialization(k *sink, s string, h hits) {
	if h.none() {
		return
	}
	for _, m := range gadgetMarkers {
		for _, p := range unsafeKeys.at(h, m.s) {
			if k.full(ruleDeserialization) {
				return
			}
			i := p + len(m.s)
			end := i
			if m.s == "${jndi:" || m.s == "${${" {
				if m.s == "${${" && indexFold(s[p:min(len(s), p+120)], 0, "j") < 0 {
					continue
				}
				if e := strings.IndexByte(s[i:min(len(s), i+300)], '}'); e >= 0 {
					end = i + e + 1
				}
			}
			k.add(ruleDeserialization, m.sev, p, end)
		}
	}
	// Serialized Java objects: the stream magic 0xACED0005, in hex or in
	// base64 ("rO0AB"), followed by enough to be an object.
	last := 0
	for _, magic := range []string{"ro0ab", "aced0005"} {
		for _, p := range unsafeKeys.at(h, magic) {
			if k.full(ruleDeserialization) {
				return
			}
			if p < last || (magic == "ro0ab" && !strings.HasPrefix(s[p:], "rO0AB")) || (p > 0 && isAlnum(s[p-1])) {
				continue
			}
			e := p + len(magic)
			for e < len(s) && (isAlnum(s[e]) || s[e] == '+' || s[e] == '/' || s[e] == '=') {
				e++
			}
			if e-p >= 40 {
				k.add(ruleDeserialization, sevHigh, p, e)
				last = e
			}
		}
	}
}

// prototypePollution finds keys that reach an object's prototype:
// "__proto__" as a JSON key, a bracket or query key, or an assignment
// target, and constructor.prototype written as nested keys.
func prototypePollution(k *sink, s string, inKey bool, h hits) {
	if inKey {
		t := strings.TrimSpace(s)
		if t == "__proto__" || t == "constructor.prototype" || strings.HasPrefix(t, "__proto__.") || strings.HasPrefix(t, "__proto__[") {
			k.add(rulePrototype, sevHigh, 0, len(s))
			return
		}
	}
	if h.none() {
		return
	}
	for _, p := range unsafeKeys.at(h, "__proto__") {
		if k.full(rulePrototype) {
			return
		}
		i := p + 9
		if isWord(byteAt(s, p-1)) || isWord(byteAt(s, i)) {
			continue
		}
		b, a := byteAt(s, p-1), byteAt(s, i)
		ok := false
		switch {
		case (b == '"' || b == '\'') && a == b:
			// "__proto__": — a key
			n := skipSpace(s, i+1)
			ok = byteAt(s, n) == ':' || byteAt(s, n) == ']'
		case b == '[':
			ok = a == ']' // a[__proto__]=, query ?__proto__[x]=
			if !ok {
				ok = a == '['
			}
		case b == '?' || b == '&':
			ok = a == '[' || a == '.' || a == '='
		case b == '.':
			// x.__proto__.y = … or x.__proto__[y] = …
			if a == '.' || a == '[' {
				e := tokenEnd(s, i)
				ok = strings.HasPrefix(strings.TrimLeft(s[e:min(len(s), e+4)], " "), "=") && byteAt(s, skipSpace(s, e)+1) != '='
			}
		}
		if !ok && a == '[' {
			ok = b == '[' || b == '?' || b == '&'
		}
		if ok {
			k.add(rulePrototype, sevHigh, p, i)
		}
	}
	for _, p := range unsafeKeys.at(h, "constructor") {
		if k.full(rulePrototype) {
			return
		}
		i := p + 11
		rest := s[i:min(len(s), i+40)]
		// {"constructor": {"prototype": …}}, constructor[prototype], ?constructor.prototype.x=
		q := strings.TrimLeft(rest, "\"' ")
		switch {
		case strings.HasPrefix(q, ":"):
			q = strings.TrimLeft(q[1:], " \n\t")
			if strings.HasPrefix(q, "{") && strings.HasPrefix(strings.TrimLeft(q[1:], " \n\t\"'"), "prototype") {
				k.add(rulePrototype, sevHigh, p, i+strings.Index(rest, "prototype")+9)
			}
		case strings.HasPrefix(rest, "[prototype]"), strings.HasPrefix(rest, "][prototype]"),
			strings.HasPrefix(rest, "%5Bprototype%5D"), strings.HasPrefix(rest, "%5bprototype%5d"):
			k.add(rulePrototype, sevHigh, p, i+strings.Index(rest, "prototype")+9)
		case strings.HasPrefix(rest, ".prototype.") && p > 0 && (s[p-1] == '?' || s[p-1] == '&'):
			k.add(rulePrototype, sevHigh, p, i+10)
		}
	}
}

func byteAt(s string, i int) byte {
	if i < 0 || i >= len(s) {
		return 0
	}
	return s[i]
}
