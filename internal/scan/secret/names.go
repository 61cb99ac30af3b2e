package secret

import "strings"

// credKind is what a name says its value is.
type credKind int

const (
	kindNone     credKind = iota
	kindPassword          // password, passwd, pwd, passphrase…
	kindSecret            // secret, token, api key, access key, credentials…
	kindEnvKey            // PROVIDER_KEY: a key of an unnamed kind, in env style
	kindHeader            // Authorization, Proxy-Authorization
	kindNeedQual          // a bare "key": needs a qualifier before it
)

// Minimum lengths of an assigned value, by kind.
const (
	minPassword = 6
	minSecret   = 8
	minStrict   = 8  // prose and flag forms
	minEnvKey   = 16 // PROVIDER_KEY, whose name says less
	maxValue    = 1024
	maxName     = 96
)

// Word flags: what a lower-case word of a name says.
const (
	wPassword  uint8 = 1 << iota // names a password
	wSecret                      // names a secret or token, alone or last
	wQualifier                   // makes a following "key" a credential
	wTrailing                    // may follow the credential word
	wNegating                    // before the credential word, makes it something else
)

// words holds the flags of the words the names are read with.
var words = func() map[string]uint8 {
	m := map[string]uint8{}
	add := func(flag uint8, list string) {
		for _, w := range strings.Fields(list) {
			m[w] |= flag
		}
	}
	add(wPassword, `password passwd pwd pswd passw passphrase pass passwort passcode`)
	add(wSecret, `secret token apikey credential credentials creds authtoken accesstoken apitoken
		secretkey accesskey privatekey apisecret clientsecret appsecret appkey authkey masterkey signingkey
		encryptionkey sessionkey sessiontoken refreshtoken bearertoken`)
	// api key, access key, private key…; other keys (sort, primary,
	// cache, public) are not credentials.
	add(wQualifier, `api access secret private client auth encryption encrypt signing sign master session app
		application account service subscription consumer license licence admin webhook integration deploy server
		shared root hmac jwt cipher aes crypto storage sas write ingest ingestion management org organization partner
		personal merchant developer`)
	// DB_PASSWORD_PROD, secret_value, token_b64.
	add(wTrailing, `value val str string b64 base64 hex raw plain plaintext enc encoded prod production dev
		development staging stage test testing live local default old new current primary secondary`)
	// A count, a pagination cursor, a public key, a flag, a CSRF token.
	add(wNegating, `public publishable pub csrf xsrf max min num number total count next prev previous page paging
		pagination continuation cursor sync marker resume sort foreign partition cache idempotency is has use enable
		enabled disable disabled show hide hidden require required requires forgot forget validate validation check
		input output prompt completion completions embedding vocab special bos eos pad unk mask cls sep no without
		allow allowed expected authenticity`)
	return m
}()

// classify says what the name (an identifier like AWS_SECRET_ACCESS_KEY,
// apiKey, x-api-key or db.password) names.
func classify(name string) credKind {
	var nbuf [12]string
	var fbuf [12]uint8
	names, flags := nbuf[:0], fbuf[:0]
	tooMany := false
	lower := lowerASCIIString(name)
	splitWords(name, func(s, e int) bool {
		if len(names) == len(nbuf) {
			tooMany = true
			return false
		}
		names = append(names, lower[s:e])
		flags = append(flags, words[lower[s:e]])
		return true
	})
	n := len(names)
	if n == 0 || tooMany {
		return kindNone
	}
	if names[n-1] == "authorization" && (n == 1 || n == 2 && names[0] == "proxy") {
		return kindHeader
	}
	i := n - 1
	// ACCESS_KEY_ID is AWS's name for the public half of a key pair,
	// which is still a credential.
	if n >= 3 && names[n-1] == "id" && names[n-2] == "key" && names[n-3] == "access" {
		i = n - 2
	}
	for t := 0; t < 2 && i > 0 && (flags[i]&wTrailing != 0 || isCountingDigits(names[i]) || isVersion(names[i])); t++ {
		i--
	}
	kind := wordKind(names[i], flags[i], i == n-1)
	if kind == kindNeedQual {
		switch {
		case i > 0 && flags[i-1]&wQualifier != 0:
			kind = kindSecret
		case i > 0 && isEnvStyle(name):
			kind = kindEnvKey
		default:
			return kindNone
		}
	}
	if kind == kindNone {
		return kindNone
	}
	for _, f := range flags[:i] {
		if f&wNegating != 0 {
			return kindNone
		}
	}
	return kind
}

// negatedName reports whether the name in a generic rule's match before
// its secret holds a word that makes it something else than a credential
// (next_page_token, csrf_token, public_key, max_tokens).
func negatedName(prefix string) bool {
	neg := false
	lower := lowerASCIIString(prefix)
	splitWords(prefix, func(s, e int) bool {
		neg = words[lower[s:e]]&wNegating != 0
		return !neg
	})
	return neg
}

// lowerASCIIString lower-cases the ASCII letters of s, keeping every
// byte where it is (strings.ToLower may change the length of non-ASCII
// text); s itself when it has no upper-case letter.
func lowerASCIIString(s string) string {
	i := 0
	for i < len(s) && !isUpper(s[i]) {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		b[i] = lowerASCII(b[i])
	}
	return string(b)
}

// wordKind classifies one lower-case word of a name, given its flags.
func wordKind(w string, f uint8, last bool) credKind {
	switch {
	case f&wPassword != 0:
		return kindPassword
	case w == "auth":
		if last {
			return kindSecret
		}
		return kindNone
	case f&wSecret != 0:
		return kindSecret
	case w == "key":
		return kindNeedQual
	case len(w) < 6:
		return kindNone
	}
	// Compounds written as one word: dbpassword, githubtoken,
	// slackwebhooksecret, awssecretkey.
	switch w[len(w)-1] {
	case 'd', 'e':
		for _, suf := range [...]string{"password", "passwd", "passphrase"} {
			if strings.HasSuffix(w, suf) && words[w[:len(w)-len(suf)]]&wNegating == 0 {
				return kindPassword
			}
		}
	case 't', 'n':
		for _, suf := range [...]string{"secret", "token"} {
			if strings.HasSuffix(w, suf) && words[w[:len(w)-len(suf)]]&wNegating == 0 {
				return kindSecret
			}
		}
	case 'y':
		for _, suf := range [...]string{"apikey", "secretkey", "accesskey", "privatekey"} {
			if strings.HasSuffix(w, suf) && words[w[:len(w)-len(suf)]]&wNegating == 0 {
				return kindSecret
			}
		}
		if strings.HasSuffix(w, "key") && words[w[:len(w)-3]]&wQualifier != 0 {
			return kindSecret
		}
	}
	return kindNone
}

func isVersion(w string) bool {
	return len(w) >= 2 && w[0] == 'v' && strings.Trim(w[1:], "0123456789") == ""
}

// isEnvStyle reports an upper-case environment-variable name with at
// least two words: STRIPE_KEY, OPENAI_API_KEY.
func isEnvStyle(name string) bool {
	if !strings.Contains(name, "_") {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isUpper(c) && !isDigit(c) && c != '_' {
			return false
		}
	}
	return true
}

// isNameByte reports a byte of an identifier as config formats write
// them: letters, digits, _ - . (x-api-key, spring.datasource.password).
func isNameByte(c byte) bool { return isAlnum(c) || c == '_' || c == '-' || c == '.' }
