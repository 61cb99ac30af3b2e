package postgres

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/wardenhq/warden/internal/ledger"
)

var _ ledger.PruneTx = (*appendTx)(nil)

// PrunedThrough returns the end of the tenant's pruned prefix.
func (t *appendTx) PrunedThrough() (int64, error) {
	var through int64
	err := t.tx.QueryRow(t.ctx, "SELECT through_seq FROM log_prunes WHERE tenant_id = $1", t.tenant).Scan(&through)
	if errors.Is(err, pgx.ErrNoRows) {
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
	tag, err := t.tx.Exec(t.ctx, "UPDATE entries SET data = NULL WHERE tenant_id = $1 AND seq >= $2 AND seq < $3 AND data IS NOT NULL"+
		" AND kind <> ALL($4)", t.tenant, from, to, ledger.Unprunable)
	if err != nil {
		return 0, fmt.Errorf("prune [%d, %d) of %q: %w", from, to, t.tenant, err)
	}
	if _, err := t.tx.Exec(t.ctx, `INSERT INTO log_prunes (tenant_id, through_seq) VALUES ($1, $2)
		ON CONFLICT (tenant_id) DO UPDATE SET through_seq = GREATEST(log_prunes.through_seq, EXCLUDED.through_seq)`,
		t.tenant, to); err != nil {
		return 0, fmt.Errorf("prune [%d, %d) of %q: %w", from, to, t.tenant, err)
	}
	return tag.RowsAffected(), nil
}
