package scantest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestConfusion(t *testing.T) {
	var c Confusion
	if c.Recall() != 0 || c.Precision() != 0 || c.F1() != 0 {
		t.Fatalf("empty counts = %v, want zeros so that a threshold fails", c)
	}
	for _, r := range []struct {
		label int
		hit   bool
	}{{1, true}, {1, true}, {1, false}, {0, true}, {0, false}, {0, false}, {0, false}} {
		c.Add(r.label, r.hit)
	}
	if c != (Confusion{TP: 2, FN: 1, FP: 1, TN: 3}) || c.Precision() != 2.0/3 || c.Recall() != 2.0/3 || c.FPR() != 0.25 || c.N() != 7 {
		t.Fatalf("counts = %v", c)
	}
}

func TestReadJSONL(t *testing.T) {
	p := filepath.Join(t.TempDir(), "r.jsonl")
	if err := os.WriteFile(p, []byte("{\"text\":\"a\",\"label\":1}\n{\"text\":\"b\",\"label\":0}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	type row struct {
		Text  string `json:"text"`
		Label int    `json:"label"`
	}
	rows, err := ReadJSONL[row](p)
	if err != nil || len(rows) != 2 || rows[1].Text != "b" || rows[0].Label != 1 {
		t.Fatalf("ReadJSONL = %+v, %v", rows, err)
	}
	if err := os.WriteFile(p, []byte("{\"text\":\"a\"}\nnot json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadJSONL[row](p); err == nil {
		t.Fatal("ReadJSONL of a bad line = nil error")
	}
	if _, err := ReadJSONL[row](filepath.Join(t.TempDir(), "missing")); !os.IsNotExist(err) {
		t.Fatalf("ReadJSONL of a missing file = %v, want not-exist", err)
	}
}
