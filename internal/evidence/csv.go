package evidence

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"

	"github.com/wardenhq/warden/internal/ledger"
)

// csvWriter writes entries.csv: one row per entry, the envelope's fields
// and the few body fields a spreadsheet filters on, then the body as
// JSON. A cell that a spreadsheet would take for a formula (it starts
// with =, +, -, @, a tab or a carriage return) is prefixed with a single
// quote, so opening the file runs nothing.
type csvWriter struct{ w *csv.Writer }

func newCSV(w io.Writer) *csvWriter { return &csvWriter{w: csv.NewWriter(w)} }

var csvColumns = []string{"seq", "time", "kind", "actor", "id", "leaf_hash", "agent", "action", "decision", "body"}

func (c *csvWriter) header() error { return c.w.Write(csvColumns) }

// csvBody is what the columns take from a body.
type csvBody struct {
	Principal struct {
		ID string `json:"id"`
	} `json:"principal"`
	Action   json.RawMessage `json:"action"`
	Decision string          `json:"decision"`
}

func (c *csvWriter) record(r *ledger.Record) error {
	row := make([]string, len(csvColumns))
	row[0] = strconv.FormatInt(r.Seq, 10)
	row[1] = ledger.FormatTime(r.Time)
	row[2] = r.Kind
	row[4] = r.ID
	row[5] = ledger.EncodeHash(r.LeafHash())
	if len(r.Data) == 0 {
		row[9] = "(pruned)"
	} else if e, err := ledger.Parse(r.Data); err == nil {
		row[3] = e.Actor
		var b csvBody
		if json.Unmarshal(e.Body, &b) == nil {
			row[6], row[8] = b.Principal.ID, b.Decision
			var typed struct {
				Type string `json:"type"`
			}
			if json.Unmarshal(b.Action, &typed) == nil {
				row[7] = typed.Type
			}
		}
		row[9] = string(e.Body)
	}
	for i := range row {
		row[i] = Neutralize(row[i])
	}
	return c.w.Write(row)
}

// flush writes what the writer buffers.
func (c *csvWriter) flush() error {
	c.w.Flush()
	return c.w.Error()
}

// Neutralize returns s so that a spreadsheet shows it as text: a leading
// =, +, -, @, tab or carriage return gets a single quote before it.
func Neutralize(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
