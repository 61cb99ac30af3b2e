package unsafe

import (
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"math"
	"strings"
	"unicode/utf8"
)

// Encoded data is told from random tokens by decoding it: base64 or hex
// of text (a prompt, a file, JSON) decodes to printable bytes; a session
// id, a signature or a hash decodes to noise. Entropy alone cannot tell
// them apart, and both are common in URLs.

// maxDecode bounds the bytes of a candidate that are decoded.
const maxDecode = 3 << 10

// decodedText decodes s as base64 (standard or URL alphabet, padded or
// not), hex or base32 and returns the result if it reads as text.
func decodedText(s string) (string, bool) {
	if len(s) > maxDecode {
		s = s[:maxDecode&^3]
	}
	s = strings.TrimRight(s, "=")
	var tries []func(string) ([]byte, error)
	if isHexString(s) && len(s)%2 == 0 {
		tries = append(tries, hex.DecodeString)
	}
	tries = append(tries,
		func(x string) ([]byte, error) { return base64.RawStdEncoding.DecodeString(x[:len(x)&^3]) },
		func(x string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(x[:len(x)&^3]) },
		func(x string) ([]byte, error) {
			return base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(x[:len(x)&^7]))
		},
	)
	for _, dec := range tries {
		b, err := dec(s)
		if err == nil && len(b) >= 8 && printable(b) {
			return string(b), true
		}
	}
	return "", false
}

// printable reports bytes that read as text: valid UTF-8, no control
// characters but whitespace, and three quarters printable ASCII. Random
// bytes (a decoded token or signature) almost never pass all three.
func printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	ascii := 0
	for _, c := range b {
		switch {
		case c == '\n' || c == '\r' || c == '\t':
			ascii++
		case c < 0x20 || c == 0x7f:
			return false
		case c < 0x80:
			ascii++
		}
	}
	return ascii*4 >= len(b)*3
}

func isHexString(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return s != ""
}

// isEncodedAlphabet reports a string made only of base64/base64url/hex
// characters (padding included).
func isEncodedAlphabet(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '+' && c != '/' && c != '=' && c != '-' && c != '_' {
			return false
		}
	}
	return s != ""
}

// entropy is the Shannon entropy of s in bits per byte.
func entropy(s string) float64 {
	if s == "" {
		return 0
	}
	var n [256]int
	for i := 0; i < len(s); i++ {
		n[s[i]]++
	}
	h := 0.0
	l := float64(len(s))
	for _, c := range n {
		if c > 0 {
			p := float64(c) / l
			h -= p * math.Log2(p)
		}
	}
	return h
}

// randomToken reports a long string that looks random: encoded alphabet,
// both letters and digits, high entropy.
func randomToken(s string, minLen int) bool {
	if len(s) < minLen || !isEncodedAlphabet(s) {
		return false
	}
	letters, digits := false, false
	for i := 0; i < len(s); i++ {
		letters = letters || isLetter(s[i])
		digits = digits || isDigit(s[i])
	}
	return letters && digits && entropy(s) >= 3.5
}

// secretMarkers are words that decoded data about credentials contains.
var secretMarkers = []string{"password", "passwd", "secret", "token", "api_key", "apikey", "api-key", "private key",
	"-----begin", "aws_access", "aws_secret", "authorization", "bearer ", "ssh-rsa", "ssh-ed25519", "credential",
	"database_url", "root:x:0:0"}

func hasSecretMarker(t string) bool {
	for _, m := range secretMarkers {
		if indexFold(t, 0, m) >= 0 {
			return true
		}
	}
	return false
}
