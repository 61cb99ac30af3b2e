package unsafe

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/wardenhq/warden/internal/scan"
)

// sharedTestdata is the labelled data kept outside the repository, found
// from this package's directory (internal/scan/unsafe → /work/shared).
var sharedTestdata = filepath.Join("..", "..", "..", "..", "shared", "testdata")

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
func loadRows(t testing.TB, rel string) []row {
	t.Helper()
	p := filepath.Join(sharedTestdata, rel)
	f, err := os.Open(p)
	if os.IsNotExist(err) {
		t.Skipf("labelled data %s not found (expected the shared test data next to the repository): skipping", p)
	}
	if err != nil {
		t.Fatalf("open %s: %v", p, err)
	}
	defer f.Close()
	var rows []row
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<22)
	for n := 1; sc.Scan(); n++ {
		var r row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s line %d: %v", p, n, err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", p, err)
	}
	if len(rows) == 0 {
		t.Fatalf("%s: no rows", p)
	}
	return rows
}

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
