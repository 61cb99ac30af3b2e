package evidence

import (
	"crypto/rand"
	"fmt"
)

// NewUUID returns a random (version 4) UUID from crypto/rand, as OSCAL
// documents need for every uuid field.
func NewUUID() string {
	var b [16]byte
	rand.Read(b[:]) // never returns an error (crypto/rand panics instead)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// validUUID reports whether u is a version 4 UUID in the form OSCAL's
// UUIDDatatype requires (it also allows version 5, which Warden never
// writes).
func validUUID(u string) bool {
	if len(u) != 36 {
		return false
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case i == 14:
			if c != '4' {
				return false
			}
		case i == 19:
			if !(c == '8' || c == '9' || c == 'a' || c == 'b' || c == 'A' || c == 'B') {
				return false
			}
		case !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'):
			return false
		}
	}
	return true
}
