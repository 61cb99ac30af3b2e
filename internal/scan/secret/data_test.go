package secret_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/wardenhq/warden/internal/scan/scantest"
)

// row is one labelled example of shared/testdata.
type row struct {
	Text      string   `json:"text"`
	Label     int      `json:"label"`
	Secrets   []string `json:"secrets"`
	Rule      string   `json:"gitleaks_rule"`
	Case      string   `json:"gitleaks_case"`
	Ambiguous bool     `json:"ambiguous"`
	ID        string   `json:"id"`
	Sub       string   `json:"subcategory"`
}

// readRows reads a JSON Lines file of shared/testdata; ok is false when
// the file is not there.
func readRows(t testing.TB, rel string) (rows []row, path string, ok bool) {
	t.Helper()
	dir, err := scantest.Dir()
	if err != nil {
		return nil, "shared/testdata", false
	}
	path = filepath.Join(dir, rel)
	rows, err = scantest.ReadJSONL[row](path)
	if os.IsNotExist(err) {
		return nil, path, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return rows, path, true
}

// loadRows is readRows that skips the test when the file is missing.
func loadRows(t testing.TB, rel string) []row { return scantest.Rows[row](t, rel) }

func itoa(i int) string { return strconv.Itoa(i) }
