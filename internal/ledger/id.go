package ledger

import (
	"io"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// IDs makes prefixed, time-sortable ids ("rcpt_01jd8x…"): a lower-case
// ULID behind a short prefix that names what the id is for.
type IDs struct {
	mu      sync.Mutex
	clock   func() time.Time
	entropy *ulid.MonotonicEntropy
}

// NewIDs returns an id source reading time from clock and randomness from
// rand (crypto/rand in production, a seeded reader in tests).
func NewIDs(clock func() time.Time, rand io.Reader) *IDs {
	return &IDs{clock: clock, entropy: ulid.Monotonic(rand, 0)}
}

// New returns a fresh id with the given prefix, e.g. New("rcpt").
func (g *IDs) New(prefix string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	id, err := ulid.New(ulid.Timestamp(g.clock()), g.entropy)
	if err != nil {
		// Monotonic entropy overflows only after 2^80 ids in one millisecond
		// or when the random source fails; neither can be answered here.
		panic("ledger: id source: " + err.Error())
	}
	return prefix + "_" + strings.ToLower(id.String())
}
