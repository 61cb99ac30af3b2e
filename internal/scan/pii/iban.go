package pii

// ibanLengths is the length of an IBAN in each country of the SWIFT IBAN
// registry (ISO 13616), country code and check digits included.
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
	"BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
	"DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
	"FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
	"GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
	"IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
	"LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
	"MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
	"PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
	"SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
	"SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
	"YE": 30,
}

const maxIBAN = 34 // ISO 13616

// confIBAN is the confidence of an IBAN: a country's exact length and a
// mod-97 check leave about one chance in a hundred for a random string of
// that shape, and few strings have it.
const confIBAN = 0.95

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// ibanAt reads an IBAN starting at the country code at i, written as one
// run or in groups of four separated by single spaces, and returns its
// end. The country code is in one case; the rest may be in either.
func ibanAt(text string, i int) (int, bool) {
	if i+4 > len(text) || !leftClean(text, i) {
		return 0, false
	}
	c0, c1 := text[i], text[i+1]
	if class[c0]&class[c1]&(cUpper|cLower) == 0 {
		return 0, false // not two letters of the same case
	}
	cc := [2]byte{upper(c0), upper(c1)}
	want, ok := ibanLengths[string(cc[:])]
	if !ok {
		return 0, false
	}
	var buf [maxIBAN]byte
	p := buf[:0]
	j := i
	spaced := false
	for len(p) < want {
		if j >= len(text) {
			return 0, false
		}
		c := text[j]
		if c == ' ' && len(p)%4 == 0 && len(p) > 0 && (spaced || len(p) == 4) && j+1 < len(text) && isAlnum(text[j+1]) {
			spaced = true
			j++
			continue
		}
		if !isAlnum(c) {
			return 0, false
		}
		if spaced && len(p)%4 == 0 && text[j-1] != ' ' {
			return 0, false // groups of four, every one
		}
		p = append(p, upper(c))
		j++
	}
	if !rightClean(text, j) {
		return 0, false
	}
	return j, validIBANDigits(p)
}

// ValidIBAN reports whether s is an IBAN of a registry country with that
// country's length and a correct mod-97 check, written as one run or in
// groups of four.
func ValidIBAN(s string) bool {
	end, ok := ibanAt(s, 0)
	return ok && end == len(s)
}

// validIBANDigits checks the country, length and ISO 7064 mod 97-10 of an
// upper-case IBAN without spaces.
func validIBANDigits(p []byte) bool {
	if len(p) < 5 || !isDigit(p[2]) || !isDigit(p[3]) {
		return false
	}
	if want, ok := ibanLengths[string(p[:2])]; !ok || want != len(p) {
		return false
	}
	if check := (p[2]-'0')*10 + p[3] - '0'; check < 2 || check > 98 {
		return false
	}
	// Move the first four characters to the end, read letters as 10..35,
	// and reduce mod 97 as the digits come.
	rem := 0
	for k := range p {
		c := p[(k+4)%len(p)]
		switch {
		case isDigit(c):
			rem = (rem*10 + int(c-'0')) % 97
		case 'A' <= c && c <= 'Z':
			rem = (rem*100 + int(c-'A'+10)) % 97
		default:
			return false
		}
	}
	return rem == 1
}
