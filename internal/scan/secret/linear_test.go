package secret_test

import (
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/scan"
)

// adversarial texts: keywords packed into runs the rules' regexes can
// consume, so that a detector that is not linear in the text's length
// shows it.
var adversarial = []struct{ name, unit string }{
	{"jwt keyword run", "ey"},
	{"assignment chain", "token="},
	{"generic value run", "api_key: a"},
	{"quoted names", `"password":"`},
	{"prose bridge", "password is "},
	{"pem headers", "-----BEGIN PRIVATE KEY-----\n"},
	{"url separators", "a://b:c@"},
	{"percent run", "%41"},
	{"base64 run", "QUJD"},
	{"name run", "access_token_secret_key_"},
	{"bearer run", "Bearer "},
	{"slack tokens", "xoxb-1234-"},
}

func timeDetect(d interface {
	Detect(scan.Input, []scan.Match) []scan.Match
}, text string) time.Duration {
	best := time.Duration(1<<63 - 1)
	for range 3 {
		start := time.Now()
		d.Detect(scan.Input{Text: text}, nil)
		best = min(best, time.Since(start))
	}
	return best
}

// TestLinearTime checks that eight times the text takes about eight
// times as long, not sixty-four, on each adversarial pattern.
func TestLinearTime(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("timing: full tier, without the race detector")
	}
	d := detector(t)
	for _, a := range adversarial {
		t.Run(a.name, func(t *testing.T) {
			small := strings.Repeat(a.unit, (64<<10)/len(a.unit))
			large := strings.Repeat(a.unit, (512<<10)/len(a.unit))
			ts, tl := timeDetect(d, small), timeDetect(d, large)
			ratio := float64(tl) / float64(max(ts, time.Microsecond))
			mbs := float64(len(large)) / tl.Seconds() / 1e6
			t.Logf("64 KB %v, 512 KB %v (x%.1f), %.1f MB/s", ts, tl, ratio, mbs)
			if ratio > 24 {
				t.Errorf("8x the text took %.1fx the time (64 KB %v, 512 KB %v): not linear", ratio, ts, tl)
			}
		})
	}
}
