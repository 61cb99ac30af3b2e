package inject

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/scan"
)

// benignParagraphs are ordinary texts of the kinds an agent reads and
// writes: tickets, e-mails, documentation, notes, code, logs and JSON.
// They use the everyday words many injection patterns start with ("if",
// "when", "you", "all", "show", "send", "new", "system", "user").
var benignParagraphs = []string{
	"Hi Dana, thanks for the quick reply. I checked the invoice again and the totals match what we agreed on in March. If you need anything else from our side, just let me know and I will send it over before Friday. Best regards, Sam",
	"When the build fails on the main branch, the on-call engineer looks at the logs first, then reruns the job once. If it fails again, open a ticket with the error message and assign it to the platform team. Do not merge new changes until the pipeline is green.",
	"The new onboarding guide explains how to request access to the staging environment. You will need approval from your manager and a short note about what you plan to test. Access expires after thirty days; renew it from the self-service portal.",
	"Meeting notes, 12 May: we reviewed the roadmap for the next quarter. Priya will draft the migration plan, Omar will update the dashboards, and the team agreed to drop the legacy export feature since almost nobody uses it. Next meeting in two weeks.",
	"Customer reports that the mobile app shows a blank screen after login on older Android devices. Steps to reproduce: install version 4.2, sign in with any account, rotate the phone. Expected: the home feed appears. Actual: nothing renders until the app restarts.",
	"To configure the exporter, set the endpoint in config.yaml and restart the service. The default interval is sixty seconds; lower values increase load on the collector. All metrics are sent over TLS, and the exporter retries three times before it gives up.",
	"Please review the attached contract and let me know if the renewal terms look right. Legal asked us to check the termination clause in section 7 and the data retention period before we sign. I would like to close this by the end of the month.",
	"Release 2.8 adds dark mode, faster search and a new settings page. We also fixed a bug where notifications arrived twice, and removed the old sync option that was replaced last year. Thanks to everyone who reported issues during the beta.",
	"The quarterly report shows revenue up 6 percent compared with last year, mostly from the enterprise plan. Churn stayed flat. Marketing spend was slightly above budget because of the conference in Berlin, which brought in about forty qualified leads.",
	"If you are working from home on Monday, remember that the VPN will be down between 7 and 9 in the morning for maintenance. Save your work before then. The help desk can answer questions about the change at the usual number.",
	"func (s *Store) Get(ctx context.Context, id string) (*Item, error) {\n\trow := s.db.QueryRowContext(ctx, \"SELECT id, name, updated_at FROM items WHERE id = $1\", id)\n\tvar it Item\n\tif err := row.Scan(&it.ID, &it.Name, &it.UpdatedAt); err != nil {\n\t\treturn nil, fmt.Errorf(\"get item %q: %w\", id, err)\n\t}\n\treturn &it, nil\n}",
	"{\"id\": 4412, \"status\": \"shipped\", \"items\": [{\"sku\": \"A-1003\", \"qty\": 2}], \"customer\": {\"name\": \"J. Rivera\", \"city\": \"Lisbon\"}, \"next\": \"https://api.example.com/v1/orders?page=3\"}",
	"2026-11-25T10:22:31Z INFO request completed method=POST path=/v1/evaluate status=200 duration_ms=7\n2026-11-25T10:22:32Z WARN slow query table=orders duration_ms=812\n2026-11-25T10:22:35Z INFO cache refreshed entries=1204",
	"Our travel policy covers economy flights for trips under six hours and premium economy for longer ones. Book hotels through the portal so the expenses show up automatically. Keep all receipts; finance will not reimburse claims without them.",
	"The experiment compared two versions of the checkout page. Version B, with the shorter form, converted 3.1 percent of visitors against 2.7 percent for version A. The difference held across regions, so we will roll out version B to everyone next week.",
	"Thanks for your order! Your package left our warehouse this morning and should arrive within three business days. You can track it from the link in your account. If anything is missing or damaged, reply to this email and we will sort it out.",
}

// benignText returns about n bytes of deterministic benign text: the
// paragraphs above in a seeded order, with numbers varied.
func benignText(n int) string {
	r := rand.New(rand.NewPCG(20261125, 1))
	var b strings.Builder
	for b.Len() < n {
		p := benignParagraphs[r.IntN(len(benignParagraphs))]
		b.WriteString(strings.ReplaceAll(p, "4412", strconv.Itoa(1000+r.IntN(9000))))
		b.WriteString("\n\n")
	}
	return b.String()[:n]
}

// denseText is a harder benign load: short sentences made almost only of
// words that start injection patterns ("The user sends the previous
// email when you are ready."). It bounds the cost of the prefilters.
func denseText(n int) string {
	r := rand.New(rand.NewPCG(20261125, 2))
	subjects := []string{"The team", "Our customer", "The system", "This report", "You", "The user", "Each service", "The new policy", "Your account", "The assistant", "The build"}
	verbs := []string{"sends", "shows", "remembers", "updates", "ignores", "reviews", "prints", "stores", "uses", "returns", "lists", "needs", "reads", "writes", "enables", "checks"}
	objects := []string{"the quarterly numbers", "a short summary", "the previous email", "all open tickets", "the system settings", "your notes", "the release checklist", "the onboarding guide", "the API response", "the meeting notes", "every failed job", "the cache"}
	tails := []string{"before the demo.", "after the call.", "if the job fails.", "when you are ready.", "for the next sprint.", "so the dashboard stays green.", "and then closes the ticket.", "without any manual step.", "in the shared folder.", "as described in the runbook."}
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(subjects[r.IntN(len(subjects))] + " " + verbs[r.IntN(len(verbs))] + " " + objects[r.IntN(len(objects))] + " " + tails[r.IntN(len(tails))] + " ")
		if r.IntN(6) == 0 {
			b.WriteString("\n\n")
		}
	}
	return b.String()[:n]
}

func benchmarkDetect(b *testing.B, text string) {
	d := New(Options{})
	in := scan.Input{Text: text, Provenance: scan.Output}
	var out []scan.Match
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	lat := make([]time.Duration, 0, b.N)
	for b.Loop() {
		start := time.Now()
		out = d.Detect(in, out[:0])
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	if len(out) > 0 {
		b.Fatalf("Detect(benign text) = %d matches, first %+v, want none", len(out), out[0])
	}
}

// BenchmarkDetect16K measures a typical argument or tool output; its
// p99-µs is the per-16KB latency.
func BenchmarkDetect16K(b *testing.B) { benchmarkDetect(b, benignText(16<<10)) }

// BenchmarkDetect1M measures the largest value a scan reads.
func BenchmarkDetect1M(b *testing.B) { benchmarkDetect(b, benignText(1<<20)) }

// BenchmarkDetectDense1M measures the dense benign text (see denseText).
func BenchmarkDetectDense1M(b *testing.B) { benchmarkDetect(b, denseText(1<<20)) }

// BenchmarkNormalizeASCII measures the fast path alone.
func BenchmarkNormalizeASCII(b *testing.B) {
	text := benignText(1 << 20)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		Normalize(text)
	}
}
