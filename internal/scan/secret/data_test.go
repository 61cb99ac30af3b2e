package secret_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
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

// testdataDir is shared/testdata beside the repository: the module root
// is found from the package directory, which go test runs in.
func testdataDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "testdata"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// readRows reads a JSON Lines file of shared/testdata; ok is false when
// the file is not there.
func readRows(t testing.TB, rel string) (rows []row, path string, ok bool) {
	t.Helper()
	dir, err := testdataDir()
	if err != nil {
		return nil, "shared/testdata", false
	}
	path = filepath.Join(dir, rel)
	f, err := os.Open(path)
	if err != nil {
		return nil, path, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for n := 1; sc.Scan(); n++ {
		var r row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return rows, path, true
}

// loadRows is readRows that skips the test when the file is missing.
func loadRows(t testing.TB, rel string) []row {
	t.Helper()
	rows, path, ok := readRows(t, rel)
	if !ok {
		t.Skipf("labelled data %s not found (shared/testdata is expected beside the repository)", path)
	}
	return rows
}

func itoa(i int) string { return strconv.Itoa(i) }
