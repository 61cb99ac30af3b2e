package secret_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/zricethezav/gitleaks/v8/detect"

	"github.com/wardenhq/warden/internal/scan"
)

// The benchmarks compare this detector with gitleaks' own (the detect
// package, imported by this test file only: it needs net/http) on the
// same rules.

var (
	glOnce sync.Once
	gl     *detect.Detector
	glErr  error
)

func gitleaksDetector(t testing.TB) *detect.Detector {
	t.Helper()
	glOnce.Do(func() {
		zerolog.SetGlobalLevel(zerolog.Disabled)
		gl, glErr = detect.NewDetectorDefaultConfig()
	})
	if glErr != nil {
		t.Fatalf("gitleaks NewDetectorDefaultConfig() = %v", glErr)
	}
	return gl
}

// engine is one detector under comparison.
type engine struct {
	name   string
	detect func(text string) int // the number of findings
}

func engines(t testing.TB) []engine {
	d := detector(t)
	g := gitleaksDetector(t)
	return []engine{
		{"warden", func(text string) int { return len(d.Detect(scan.Input{Text: text}, nil)) }},
		{"gitleaks", func(text string) int { return len(g.DetectString(text)) }},
	}
}

func BenchmarkDetect(b *testing.B) {
	for _, e := range engines(b) {
		for _, size := range []int{16 << 10, 1 << 20} {
			text := benignText(size, 7)
			b.Run(fmt.Sprintf("%s/benign-%dKB", e.name, size>>10), func(b *testing.B) {
				b.SetBytes(int64(size))
				for b.Loop() {
					e.detect(text)
				}
			})
		}
		if rows, _, ok := readRows(b, "secrets/gitleaks_rule_cases.jsonl"); ok {
			total := 0
			for _, r := range rows {
				total += len(r.Text)
			}
			b.Run(e.name+"/gitleaks-rows", func(b *testing.B) {
				b.SetBytes(int64(total))
				for b.Loop() {
					for _, r := range rows {
						e.detect(r.Text)
					}
				}
			})
		}
	}
}

// throughput runs detect over text until at least minTime has passed and
// returns MB/s.
func throughput(detect func(string) int, text string, minTime time.Duration) float64 {
	n := 0
	start := time.Now()
	for n == 0 || time.Since(start) < minTime {
		detect(text)
		n++
	}
	return float64(n*len(text)) / time.Since(start).Seconds() / 1e6
}

// p99 is the 99th percentile of the time one 16 KB text takes, over
// calls cycling through distinct texts.
func p99(detect func(string) int, texts []string, calls int) time.Duration {
	ds := make([]time.Duration, calls)
	for i := range ds {
		start := time.Now()
		detect(texts[i%len(texts)])
		ds[i] = time.Since(start)
	}
	slices.Sort(ds)
	return ds[len(ds)*99/100]
}

// TestCompareWithGitleaks measures both detectors (speed on benign text,
// p99 on 16 KB, recall on gitleaks' own rule cases) and prints the table
// behind the choice of this detector. It fails if this detector loses
// recall against gitleaks. Speed is only printed: a test cannot tell a
// slow detector from a busy machine (the full tier runs packages side by
// side); the scanner's 20 MB/s must is measured by go run ./bench/scan.
func TestCompareWithGitleaks(t *testing.T) {
	if testing.Short() {
		t.Skip("timing comparison: full tier only")
	}
	rows := loadRows(t, "secrets/gitleaks_rule_cases.jsonl")
	small := make([]string, 16)
	for i := range small {
		small[i] = benignText(16<<10, uint64(100+i))
	}
	large := benignText(1<<20, 7)
	var table strings.Builder
	fmt.Fprintf(&table, "%-9s %14s %14s %14s %10s\n", "detector", "MB/s 16KB", "MB/s 1MB", "p99 16KB", "recall")
	results := map[string][2]float64{} // MB/s on 1 MB, recall
	for _, e := range engines(t) {
		var c confusion
		for _, r := range rows {
			c.Add(r.Label, e.detect(r.Text) > 0)
		}
		mbSmall := throughput(e.detect, small[0], 300*time.Millisecond)
		mbLarge := throughput(e.detect, large, 300*time.Millisecond)
		lat := p99(e.detect, small, 100)
		fmt.Fprintf(&table, "%-9s %14.1f %14.1f %14s %10.3f\n", e.name, mbSmall, mbLarge, lat.Round(time.Microsecond), c.Recall())
		results[e.name] = [2]float64{mbLarge, c.Recall()}
	}
	t.Logf("benign text (code, logs, JSON, YAML, prose) and gitleaks_rule_cases, one core:\n%s", table.String())
	w, g := results["warden"], results["gitleaks"]
	if w[1] < g[1] {
		t.Errorf("recall on gitleaks_rule_cases: warden %.3f < gitleaks %.3f", w[1], g[1])
	}
}
