// Package scantest reads the labelled data of ../shared/testdata for the
// scanners' quality tests and for bench/scan, and counts how a detector
// did on it. It is used by tests and benchmarks only.
package scantest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the shared labelled data directory: shared/testdata beside
// the repository, found from the working directory (a package directory
// under go test, the repository root under go run).
func Dir() (string, error) {
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
			return "", fmt.Errorf("no go.mod above the working directory: %w", os.ErrNotExist)
		}
		dir = parent
	}
}

// ReadJSONL decodes a JSON Lines file, one T per line.
func ReadJSONL[T any](path string) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []T
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for n := 1; sc.Scan(); n++ {
		var r T
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, n, err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return rows, nil
}

// Rows reads rel (a path under Dir) for a test: it skips the test with a
// clear message when the shared data is not there, and fails it when the
// file cannot be decoded or holds no rows.
func Rows[T any](t testing.TB, rel string) []T {
	t.Helper()
	dir, err := Dir()
	if err != nil {
		t.Skipf("labelled data %s not found: %v (shared/testdata is expected beside the repository); skipping", rel, err)
	}
	path := filepath.Join(dir, rel)
	rows, err := ReadJSONL[T](path)
	if os.IsNotExist(err) {
		t.Skipf("labelled data %s not found (shared/testdata is expected beside the repository); skipping", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatalf("%s holds no rows", path)
	}
	return rows
}

// Confusion counts labelled rows by whether they were detected.
type Confusion struct{ TP, FP, FN, TN int }

// Add counts one row: label 1 means it should be detected.
func (c *Confusion) Add(label int, detected bool) {
	switch {
	case label == 1 && detected:
		c.TP++
	case label == 1:
		c.FN++
	case detected:
		c.FP++
	default:
		c.TN++
	}
}

// Ratio is a/b, and 0 when b is 0, so that a threshold on an empty count
// fails rather than passing on NaN.
func Ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Precision is TP / (TP + FP).
func (c Confusion) Precision() float64 { return Ratio(c.TP, c.TP+c.FP) }

// Recall is TP / (TP + FN).
func (c Confusion) Recall() float64 { return Ratio(c.TP, c.TP+c.FN) }

// FPR is the false-positive rate, FP / (FP + TN).
func (c Confusion) FPR() float64 { return Ratio(c.FP, c.FP+c.TN) }

// F1 is the harmonic mean of precision and recall.
func (c Confusion) F1() float64 {
	p, r := c.Precision(), c.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// N is the number of rows counted.
func (c Confusion) N() int { return c.TP + c.FP + c.FN + c.TN }

func (c Confusion) String() string {
	return fmt.Sprintf("n=%d tp=%d fp=%d fn=%d tn=%d precision=%.3f recall=%.3f fpr=%.3f f1=%.3f",
		c.N(), c.TP, c.FP, c.FN, c.TN, c.Precision(), c.Recall(), c.FPR(), c.F1())
}
