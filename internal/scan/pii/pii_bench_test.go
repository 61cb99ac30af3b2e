package pii

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/scan"
)

// benign returns about n bytes of deterministic text with no personal data
// in it: log lines, JSON with numbers, Go code and prose, with dates,
// times, amounts, versions, counters, hashes and ids.
func benign(n int, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	hex := func(k int) string {
		const digits = "0123456789abcdef"
		b := make([]byte, k)
		for i := range b {
			b[i] = digits[r.IntN(16)]
		}
		return string(b)
	}
	words := strings.Fields("the agent reads a file and writes a summary of the report for review before " +
		"the deadline while the service retries each request until the queue drains and the cache warms up")
	var b strings.Builder
	for b.Len() < n {
		switch r.IntN(5) {
		case 0:
			fmt.Fprintf(&b, "2026-%02d-%02dT%02d:%02d:%02d.%03dZ INFO request_id=%s method=GET path=/v1/items/%d status=%d latency_ms=%d.%d bytes=%d\n",
				1+r.IntN(12), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1000), hex(16),
				r.IntN(100000), []int{200, 201, 404, 500}[r.IntN(4)], r.IntN(900), r.IntN(10), r.IntN(1<<20))
		case 1:
			fmt.Fprintf(&b, `{"order_id": %d, "amount_cents": %d, "currency": "usd", "created": "2026-%02d-%02d", "sku": "AB-%04d-X", "qty": %d, "ratio": %.4f, "trace": "%s"}`+"\n",
				r.IntN(1_000_000_000), r.IntN(10_000_000), 1+r.IntN(12), 1+r.IntN(28), r.IntN(10000), 1+r.IntN(20), r.Float64(), hex(32))
		case 2:
			fmt.Fprintf(&b, "func handle%d(ctx context.Context, n int) error {\n\tif n > %d {\n\t\treturn fmt.Errorf(\"limit %%d: %%w\", n, errTooMany)\n\t}\n\tbuf := make([]byte, %d)\n\t_ = buf[:n%%%d]\n\treturn nil\n}\n",
				r.IntN(1000), r.IntN(100000), 1<<(8+r.IntN(10)), 1+r.IntN(255))
		case 3:
			for range 12 + r.IntN(20) {
				b.WriteString(words[r.IntN(len(words))])
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "in %d, revenue grew %d.%d%% to $%d,%03d,%03d across %d regions (v%d.%d.%d, build %d).\n",
				2000+r.IntN(27), r.IntN(40), r.IntN(10), 1+r.IntN(9), r.IntN(1000), r.IntN(1000), 2+r.IntN(60),
				r.IntN(3), r.IntN(30), r.IntN(20), r.IntN(100000))
		case 4:
			fmt.Fprintf(&b, "%s  %8d %8d %6d %6d  %02d:%02d  commit %s  uuid %s-%s-%s-%s-%s\n",
				words[r.IntN(len(words))], r.IntN(1e7), r.IntN(1e7), r.IntN(1e5), r.IntN(1e5), r.IntN(24), r.IntN(60),
				hex(40), hex(8), hex(4), hex(4), hex(4), hex(12))
		}
	}
	return b.String()
}

// adversarial returns about n bytes built to make the detector work: a
// table of phone-shaped numbers next to phone words, "@" and ":" runs.
func adversarial(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "phone %03d %03d %04d call %02d %02d %02d %02d a@b%d.co ::%x:%x ", i%1000, (i*7)%1000, (i*13)%10000, i%100, (i/3)%100, (i/7)%100, (i/11)%100, i, i, i+1)
	}
	return b.String()
}

func BenchmarkDetect(b *testing.B) {
	d := New(Options{})
	cases := []struct {
		name string
		text string
	}{
		{name: "benign-16KB", text: benign(16<<10, 1)},
		{name: "benign-1MB", text: benign(1<<20, 2)},
		{name: "adversarial-1MB", text: adversarial(1 << 20)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			in := scan.Input{Text: c.text}
			var out []scan.Match
			b.SetBytes(int64(len(c.text)))
			b.ReportAllocs()
			for b.Loop() {
				out = d.Detect(in, out[:0])
			}
		})
	}
}

// BenchmarkDetectLatency16KB reports the p50 and p99 latency of Detect on
// 16 KB benign inputs, each a different text.
func BenchmarkDetectLatency16KB(b *testing.B) {
	d := New(Options{})
	texts := make([]string, 64)
	for i := range texts {
		texts[i] = benign(16<<10, uint64(100+i))
	}
	var lat []time.Duration
	var out []scan.Match
	i := 0
	for b.Loop() {
		t0 := time.Now()
		out = d.Detect(scan.Input{Text: texts[i%len(texts)]}, out[:0])
		lat = append(lat, time.Since(t0))
		i++
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
