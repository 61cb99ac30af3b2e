// Command scan scores Warden's content scanner on the labelled files of
// ../shared/testdata and measures its speed, printing Markdown tables
// beside the musts.
//
// Quality: per file precision, recall, F1 and false-positive rate at the
// row level (a row counts as detected when the file's categories have a
// finding at or above the operating severity), and for presidio_synth_v2
// precision and recall per PII entity at the span level (a predicted span
// of a type is correct when it overlaps a labelled span of that type).
// Speed: MB/s per core of ScanValue over benign JSON arguments and
// outputs, one goroutine (so one core), every detector on; and the latency
// distribution of one 16 KB argument.
//
//	go run ./bench/scan [-testdata ../shared/testdata] [-iterations 2000]
//
// It exits 1 if a must is missed and 2 if the measurement fails.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/wardenhq/warden/internal/scan/scantest"

	"github.com/wardenhq/warden/internal/scan"
	"github.com/wardenhq/warden/internal/scan/detect"
	"github.com/wardenhq/warden/internal/scan/inject"
	"github.com/wardenhq/warden/internal/scan/pii"
	"github.com/wardenhq/warden/internal/scan/secret"
	"github.com/wardenhq/warden/internal/scan/unsafe"
	"github.com/wardenhq/warden/internal/secretrules"
)

// profile and memProfile are the -cpuprofile and -memprofile files.
var profile, memProfile string

// row is one labelled text.
type row struct {
	Text     string `json:"text"`
	Label    int    `json:"label"`
	Category string `json:"category"`
	Spans    []struct {
		Type      string `json:"type"`
		StartByte int    `json:"start_byte"`
		EndByte   int    `json:"end_byte"`
	} `json:"spans"`
}

// counts are row-level outcomes.
type counts = scantest.Confusion

func ratio(a, b int) float64 { return scantest.Ratio(a, b) }

// kind says which findings count for a file.
type kind struct {
	name     string
	file     string
	prov     scan.Provenance
	counts   func(f scan.Finding) bool
	mustNote string
	must     func(c counts) bool
}

func isSecret(f scan.Finding) bool { return strings.HasPrefix(f.Category, scan.SecretPrefix) }
func isPII(f scan.Finding) bool    { return strings.HasPrefix(f.Category, scan.PIIPrefix) }

// OperatingSeverity is the lowest severity of an injection-family finding
// that counts as a detection: the built-in policy asks for approval from
// medium and denies from high.
const OperatingSeverity = scan.Medium

func isAttack(f scan.Finding) bool {
	switch f.Category {
	case scan.Injection, scan.Jailbreak, scan.UnsafeInput, scan.Exfiltration:
		return scan.SeverityRank(f.Severity) >= scan.SeverityRank(OperatingSeverity)
	}
	return false
}

func main() {
	testdata := flag.String("testdata", "../shared/testdata", "directory of the labelled files")
	iterations := flag.Int("iterations", 2000, "16 KB scans timed for the latency distribution")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the speed phase to `FILE`")
	memprofile := flag.String("memprofile", "", "write an allocation profile of the speed phase to `FILE`")
	flag.Parse()
	profile, memProfile = *cpuprofile, *memprofile
	rules, err := secretrules.Gitleaks()
	if err != nil {
		fail(err)
	}
	s, err := detect.New(detect.Options{SecretRules: rules})
	if err != nil {
		fail(err)
	}
	ok := true
	ctx := context.Background()
	detected := func(r row, prov scan.Provenance, keep func(scan.Finding) bool) ([]scan.Finding, bool) {
		res := s.ScanText(ctx, r.Text, "", prov)
		var kept []scan.Finding
		for _, f := range res.Findings {
			if keep(f) {
				kept = append(kept, f)
			}
		}
		return kept, len(kept) > 0 || res.Incomplete
	}

	fmt.Println("| file | rows | tp | fp | fn | tn | precision | recall | F1 | FPR | must | status |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
	var injection counts
	for _, k := range []kind{
		{name: "gitleaks_rule_cases", file: "secrets/gitleaks_rule_cases.jsonl", counts: isSecret,
			mustNote: "recall ≥ 0.95, precision ≥ 0.90", must: func(c counts) bool { return c.Recall() >= 0.95 && c.Precision() >= 0.90 }},
		{name: "pib_credentials", file: "secrets/pib_credentials.jsonl", counts: isSecret,
			mustNote: "recall ≥ 0.85", must: func(c counts) bool { return c.Recall() >= 0.85 }},
		{name: "pib_pii", file: "pii/pib_pii.jsonl", counts: isPII},
		{name: "presidio_synth_v2 (rows)", file: "pii/presidio_synth_v2.jsonl", counts: isPII},
		{name: "pib_v1", file: "injection/pib_v1.jsonl", counts: isAttack},
		{name: "agt_pi_fixture_smoke_v1", file: "injection/agt_pi_fixture_smoke_v1.jsonl", counts: isAttack},
	} {
		rows, err := scantest.ReadJSONL[row](filepath.Join(*testdata, k.file))
		if err != nil {
			fail(err)
		}
		var c counts
		for _, r := range rows {
			_, hit := detected(r, k.prov, k.counts)
			c.Add(r.Label, hit)
		}
		if k.counts != nil && strings.HasPrefix(k.file, "injection/") {
			injection.TP, injection.FP, injection.FN, injection.TN = injection.TP+c.TP, injection.FP+c.FP, injection.FN+c.FN, injection.TN+c.TN
		}
		status := "—"
		if k.must != nil {
			status = "must met"
			if !k.must(c) {
				status, ok = "**MUST MISSED**", false
			}
		}
		note := k.mustNote
		if note == "" {
			note = "—"
		}
		fmt.Printf("| %s | %d | %d | %d | %d | %d | %.3f | %.3f | %.3f | %.3f | %s | %s |\n", k.name, len(rows), c.TP, c.FP, c.FN, c.TN,
			c.Precision(), c.Recall(), c.F1(), c.FPR(), note, status)
	}
	status := "must met"
	if !(injection.Recall() >= 0.85 && injection.FPR() <= 0.03) {
		status, ok = "**MUST MISSED**", false
	}
	fmt.Printf("| pib_v1 + agt (injection, jailbreak, unsafe_input, exfiltration ≥ %s) | %d | %d | %d | %d | %d | %.3f | %.3f | %.3f | %.3f | recall ≥ 0.85, FPR ≤ 0.03 | %s |\n",
		OperatingSeverity, injection.TP+injection.FP+injection.FN+injection.TN, injection.TP, injection.FP, injection.FN, injection.TN,
		injection.Precision(), injection.Recall(), injection.F1(), injection.FPR(), status)

	if !piiEntities(s, filepath.Join(*testdata, "pii/presidio_synth_v2.jsonl")) {
		ok = false
	}
	if !speed(s, *iterations) {
		ok = false
	}
	perDetector(rules)
	if !ok {
		os.Exit(1)
	}
}

// presidioTypes maps the labelled entity types to our PII categories.
var presidioTypes = map[string]string{
	"EMAIL_ADDRESS": "pii.email", "PHONE_NUMBER": "pii.phone", "CREDIT_CARD": "pii.credit_card",
	"US_SSN": "pii.us_ssn", "IBAN_CODE": "pii.iban", "IP_ADDRESS": "pii.ip_address",
}

func piiEntities(s *scan.Scanner, path string) bool {
	rows, err := scantest.ReadJSONL[row](path)
	if err != nil {
		fail(err)
	}
	type pr struct{ TP, FP, gold, found int }
	per := map[string]*pr{}
	for _, c := range presidioTypes {
		per[c] = &pr{}
	}
	for _, r := range rows {
		res := s.ScanText(context.Background(), r.Text, "", scan.Argument)
		for _, sp := range r.Spans {
			c, ok := presidioTypes[sp.Type]
			if !ok {
				continue
			}
			per[c].gold++
			for _, f := range res.Findings {
				if f.Category == c && f.Start < sp.EndByte && sp.StartByte < f.End {
					per[c].found++
					break
				}
			}
		}
		for _, f := range res.Findings {
			e, ok := per[f.Category]
			if !ok {
				continue
			}
			hit := false
			for _, sp := range r.Spans {
				if presidioTypes[sp.Type] == f.Category && f.Start < sp.EndByte && sp.StartByte < f.End {
					hit = true
					break
				}
			}
			if hit {
				e.TP++
			} else {
				e.FP++
			}
		}
	}
	ok := true
	fmt.Println()
	fmt.Println("| presidio_synth_v2 entity | labelled | predicted | precision | recall | must | status |")
	fmt.Println("|---|---:|---:|---:|---:|---|---|")
	musts := map[string][2]float64{"pii.email": {0.95, 0.90}, "pii.credit_card": {0.95, 0.90}, "pii.phone": {0.80, 0.70}}
	cats := slices.Sorted(func(yield func(string) bool) {
		for c := range per {
			if !yield(c) {
				return
			}
		}
	})
	var grp pr
	for _, c := range cats {
		e := per[c]
		p, r := ratio(e.TP, e.TP+e.FP), ratio(e.found, e.gold)
		note, status := "—", "—"
		if m, has := musts[c]; has {
			note = fmt.Sprintf("precision ≥ %.2f, recall ≥ %.2f", m[0], m[1])
			status = "must met"
			if !(p >= m[0] && r >= m[1]) {
				status, ok = "**MUST MISSED**", false
			}
		} else {
			grp.TP, grp.FP, grp.gold, grp.found = grp.TP+e.TP, grp.FP+e.FP, grp.gold+e.gold, grp.found+e.found
		}
		fmt.Printf("| %s | %d | %d | %.3f | %.3f | %s | %s |\n", c, e.gold, e.TP+e.FP, p, r, note, status)
	}
	status := "must met"
	if !(ratio(grp.found, grp.gold) >= 0.90 && grp.FP <= 2) {
		status, ok = "**MUST MISSED**", false
	}
	fmt.Printf("| SSN + IBAN + IP together | %d | %d | %.3f | %.3f | recall ≥ 0.90, ≤ 2 false positives (%d) | %s |\n",
		grp.gold, grp.TP+grp.FP, ratio(grp.TP, grp.TP+grp.FP), ratio(grp.found, grp.gold), grp.FP, status)
	return ok
}

// benign builds deterministic benign tool-call arguments and outputs:
// file reads and writes with code, search queries, log excerpts, prose and
// records with numbers, ids and timestamps.
func benign(rng *rand.Rand, size int) map[string]any {
	words := strings.Fields(`the request returns a list of items sorted by creation time and each item carries
an identifier a title and the time it changed so that clients can page through results without missing updates
configuration files live under the workspace and tests run with the race detector before every merge to main`)
	code := `func (s *Store) Get(ctx context.Context, id string) (*Item, error) {
	row := s.db.QueryRowContext(ctx, "SELECT id, title FROM items WHERE id = ?", id)
	var it Item
	if err := row.Scan(&it.ID, &it.Title); err != nil {
		return nil, fmt.Errorf("get item %s: %w", id, err)
	}
	return &it, nil
}
`
	var b strings.Builder
	for b.Len() < size/2 {
		b.WriteString(words[rng.IntN(len(words))])
		b.WriteByte(' ')
		if rng.IntN(12) == 0 {
			b.WriteString(".\n")
		}
	}
	var records []any
	n := 0
	for n < size/4 {
		rec := map[string]any{"id": fmt.Sprintf("item-%d", rng.IntN(1_000_000)), "count": int64(rng.IntN(5000)),
			"updated_at": time.Unix(1_760_000_000+rng.Int64N(10_000_000), 0).UTC().Format(time.RFC3339), "status": "ok"}
		records = append(records, rec)
		n += 90
	}
	var c strings.Builder
	for c.Len() < size/4 {
		c.WriteString(code)
	}
	return map[string]any{"path": "/workspace/src/store/items.go", "content": c.String(), "summary": b.String(), "records": records}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func jsonSize(v any) int {
	b, _ := json.Marshal(v)
	return len(b)
}

func speed(s *scan.Scanner, iterations int) bool {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(20261125, 1))
	var args, outs []map[string]any
	total := 0
	for total < 32<<20 {
		a := benign(rng, 4<<10+rng.IntN(60<<10))
		args = append(args, a)
		o := benign(rng, 4<<10+rng.IntN(60<<10))
		outs = append(outs, o)
		total += jsonSize(a) + jsonSize(o)
	}
	// Warm up, then time one goroutine: bytes per CPU second is per core.
	for i := 0; i < 3; i++ {
		s.ScanValue(ctx, args[i], "/args", scan.Argument)
	}
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
		defer pprof.StopCPUProfile()
	}
	cpu0, wall0 := cpuTime(), time.Now()
	findings, incomplete := 0, 0
	for i := range args {
		for _, r := range []scan.Result{s.ScanValue(ctx, args[i], "/args", scan.Argument), s.ScanValue(ctx, outs[i], "/output", scan.Output)} {
			findings += len(r.Findings)
			if r.Incomplete {
				incomplete++
			}
		}
	}
	cpu, wall := cpuTime()-cpu0, time.Since(wall0)
	if memProfile != "" {
		f, err := os.Create(memProfile)
		if err != nil {
			fail(err)
		}
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			fail(err)
		}
		if err := f.Close(); err != nil {
			fail(err)
		}
	}
	mbps := float64(total) / (1 << 20) / cpu.Seconds()

	arg16 := benign(rand.New(rand.NewPCG(7, 7)), 16<<10)
	lat := make([]time.Duration, iterations)
	for i := range lat {
		t := time.Now()
		s.ScanValue(ctx, arg16, "/args", scan.Argument)
		lat[i] = time.Since(t)
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[int(math.Ceil(p*float64(len(lat))))-1] }
	ok := mbps >= 20 && q(0.99) < 2*time.Millisecond
	status := "must met"
	switch {
	case !ok:
		status = "**MUST MISSED**"
	case mbps >= 50 && q(0.99) < time.Millisecond:
		status = "goal met"
	}
	fmt.Println()
	fmt.Println("| speed | measured | must | goal | status |")
	fmt.Println("|---|---:|---|---|---|")
	fmt.Printf("| benign JSON args and outputs, one core | %.1f MB/s (%.1f MB in %s CPU, %s wall; %d findings, %d incomplete) | 20 MB/s | 50 MB/s | %s |\n",
		mbps, float64(total)/(1<<20), cpu.Round(time.Millisecond), wall.Round(time.Millisecond), findings, incomplete, status)
	fmt.Printf("| one 16 KB argument (%d bytes), %d scans | p50 %s, p99 %s, max %s | p99 < 2 ms | p99 < 1 ms | %s |\n",
		jsonSize(arg16), iterations, q(0.5).Round(time.Microsecond), q(0.99).Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond), status)
	return ok
}

// perDetector times each detector alone over the same benign corpus and
// counts what it reports there (every finding on it is a false positive).
func perDetector(rules []secret.Rule) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(20261125, 1))
	var vals []map[string]any
	total := 0
	for total < 8<<20 {
		a := benign(rng, 4<<10+rng.IntN(60<<10))
		vals = append(vals, a)
		total += jsonSize(a)
	}
	sec, err := secret.New(secret.Options{Rules: rules})
	if err != nil {
		fail(err)
	}
	fmt.Println()
	fmt.Println("| detector alone | MB/s, one core | findings on benign text |")
	fmt.Println("|---|---:|---|")
	for _, d := range []scan.Detector{sec, pii.New(pii.Options{}), inject.New(inject.Options{}), unsafe.NewUnsafeInput(), unsafe.NewExfiltration(), unsafe.NewToolPoisoning()} {
		s := scan.New(scan.Limits{}, d)
		cats := map[string]int{}
		cpu0 := cpuTime()
		for _, v := range vals {
			for _, f := range s.ScanValue(ctx, v, "/args", scan.Argument).Findings {
				cats[f.Category+"/"+f.Rule]++
			}
		}
		cpu := cpuTime() - cpu0
		fmt.Printf("| %s | %.1f | %v |\n", d.Name(), float64(total)/(1<<20)/cpu.Seconds(), cats)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "scan bench:", err)
	os.Exit(2)
}
