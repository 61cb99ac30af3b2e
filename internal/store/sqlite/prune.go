package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/wardenhq/warden/internal/ledger"
)

var _ ledger.PruneTx = (*appendTx)(nil)

// PrunedThrough returns the end of the tenant's pruned prefix.
func (t *appendTx) PrunedThrough() (int64, error) {
	var through int64
	err := t.queryRow("SELECT through_seq FROM log_prunes WHERE tenant_id = ?", t.tenant).Scan(&through)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("pruned prefix of %q: %w", t.tenant, err)
	}
	return through, nil
}

// PruneData removes the data of the entries in [from, to), committed
// entries only, and moves the pruned prefix to to.
func (t *appendTx) PruneData(from, to int64) (int64, error) {
	if from < 0 || to < from || to > t.start {
		return 0, fmt.Errorf("prune [%d, %d) of %q: outside the %d committed entries", from, to, t.tenant, t.start)
	}
	args := []any{t.tenant, from, to}
	for _, k := range ledger.Unprunable {
		args = append(args, k)
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(ledger.Unprunable)), ", ")
	res, err := t.exec("UPDATE entries SET data = NULL WHERE tenant_id = ? AND seq >= ? AND seq < ? AND data IS NOT NULL"+
		" AND kind NOT IN ("+marks+")", args...)
	if err != nil {
		return 0, fmt.Errorf("prune [%d, %d) of %q: %w", from, to, t.tenant, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune [%d, %d) of %q: %w", from, to, t.tenant, err)
	}
	if _, err := t.exec(`INSERT INTO log_prunes (tenant_id, through_seq) VALUES (?, ?)
		ON CONFLICT (tenant_id) DO UPDATE SET through_seq = MAX(through_seq, excluded.through_seq)`, t.tenant, to); err != nil {
		return 0, fmt.Errorf("prune [%d, %d) of %q: %w", from, to, t.tenant, err)
	}
	return n, nil
}
