package unsafe

import (
	"testing"

	"github.com/wardenhq/warden/internal/scan/scantest"

	"github.com/wardenhq/warden/internal/scan"
)

// row is one labelled text.
type row struct {
	ID         string `json:"id"`
	Text       string `json:"text"`
	Label      int    `json:"label"`
	Category   string `json:"category"`
	SourceType string `json:"source_type"`
}

// loadRows reads a JSON Lines file under the shared test data, skipping
// the test when the data is not there.
func loadRows(t testing.TB, rel string) []row { return scantest.Rows[row](t, rel) }

// detectAll runs detectors over text and returns every match.
func detectAll(text string, prov scan.Provenance, ds ...scan.Detector) []scan.Match {
	var all []scan.Match
	for _, d := range ds {
		all = d.Detect(scan.Input{Text: text, Provenance: prov}, all)
	}
	return all
}

// maxSeverity is the highest severity rank among ms.
func maxSeverity(ms []scan.Match) int {
	best := 0
	for _, m := range ms {
		best = max(best, scan.SeverityRank(m.Severity))
	}
	return best
}
