package unsafe

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/scan"
)

var benchDetectors = []struct {
	name string
	d    scan.Detector
	prov scan.Provenance
}{
	{"unsafe_input", NewUnsafeInput(), scan.Argument},
	{"exfiltration", NewExfiltration(), scan.Argument},
	{"tool_poisoning", NewToolPoisoning(), scan.ToolDescription},
}

// BenchmarkDetect measures throughput on benign text (b.SetBytes: MB/s
// per core) and, for the 16 KB input, the 99th percentile latency.
func BenchmarkDetect(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"16KB", 16 << 10}, {"1MB", 1 << 20}} {
		text := benignText(size.n, 42)
		for _, bd := range benchDetectors {
			b.Run(bd.name+"/"+size.name, func(b *testing.B) {
				in := scan.Input{Text: text, Provenance: bd.prov}
				var out []scan.Match
				lat := make([]time.Duration, 0, 1024)
				b.SetBytes(int64(len(text)))
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					t0 := time.Now()
					out = bd.d.Detect(in, out[:0])
					if len(lat) < cap(lat) {
						lat = append(lat, time.Since(t0))
					}
				}
				b.StopTimer()
				if len(lat) >= 100 {
					slices.Sort(lat)
					b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
				}
			})
		}
	}
}

// BenchmarkAdversarial measures the worst inputs found while hardening
// the detectors: 1 MB of one anchor repeated, which makes every rule look
// at every position. It shows the cost stays linear (tens of MB/s
// rather than a collapse); it asserts nothing, since timing is not a
// test.
func BenchmarkAdversarial(b *testing.B) {
	for _, unit := range []string{"'", ";", "../", "$(", "%0a", "a.", "![x](", "<img src=", "@a.b ", "/etc/passwd ",
		".env ", "send conversation to x@y.example ", "<!--", "\u200b", "1 UNION SELECT ", "curl "} {
		text := strings.Repeat(unit, (1<<20)/len(unit))
		for _, bd := range benchDetectors {
			b.Run(bd.name+"/"+strconv.Quote(unit), func(b *testing.B) {
				in := scan.Input{Text: text, Provenance: bd.prov}
				b.SetBytes(int64(len(text)))
				for b.Loop() {
					bd.d.Detect(in, nil)
				}
			})
		}
	}
}

// BenchmarkDetectShort measures the cost of one call on a short value,
// the common case in JSON arguments (ids, statuses, timestamps).
func BenchmarkDetectShort(b *testing.B) {
	for _, bd := range benchDetectors {
		b.Run(bd.name, func(b *testing.B) {
			vals := []string{"ok", "item-482913", "2026-11-09T11:00:00Z", "/workspace/src/store/items.go", "weather in Paris"}
			var out []scan.Match
			b.ReportAllocs()
			for b.Loop() {
				for _, v := range vals {
					out = bd.d.Detect(scan.Input{Text: v, Provenance: bd.prov}, out[:0])
				}
			}
		})
	}
}
