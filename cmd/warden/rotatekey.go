package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/store/postgres"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

// Meta keys of the installation's checkpoint keys: verifier_key is the
// key it signs with now; verifier_keys the whole history, one verifier
// key a line, oldest first.
const (
	metaVerifierKey  = "verifier_key"
	metaVerifierKeys = "verifier_keys"
)

// keyStore is what key rotation needs of a store.
type keyStore interface {
	ledger.Store
	Meta(ctx context.Context, key string) (string, error)
	SetMeta(ctx context.Context, key, value string) error
	Close() error
}

var (
	_ keyStore = (*sqlite.DB)(nil)
	_ keyStore = (*postgres.DB)(nil)
)

// keyHistory returns the installation's verifier keys, oldest first (the
// current one last), or nil before its first start.
func keyHistory(ctx context.Context, db interface {
	Meta(ctx context.Context, key string) (string, error)
}) ([]string, error) {
	all, err := db.Meta(ctx, metaVerifierKeys)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(all, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	cur, err := db.Meta(ctx, metaVerifierKey)
	if err != nil {
		return nil, err
	}
	if cur != "" && (len(out) == 0 || out[len(out)-1] != cur) {
		// An installation that never rotated keeps only verifier_key.
		out = append(out, cur)
	}
	return out, nil
}

type rotateFlags struct {
	dataDir, database  string
	signingKey, newKey string
	comment            string
}

func newLogRotateKeyCmd() *cobra.Command {
	f := &rotateFlags{}
	cmd := &cobra.Command{
		Use:   "rotate-key --new-key FILE",
		Short: "Hand the log over to a new checkpoint signing key",
		Long: `Hand every log of the installation over to a new checkpoint signing key.

Stop the server first (every replica, with PostgreSQL): rotate-key writes to
the database directly. For every tenant's log, the installation's own (_system)
included, it appends a signing_key.rotated entry naming the old and the new
verifier keys, and signs a checkpoint covering that entry with the OLD key (the
last one the old key signs). It then records the new key as the installation's
key, keeping the history. Afterwards start the server with the new key:

  warden keygen --out new.key
  warden log rotate-key --new-key new.key [--signing-key old.key]
  warden serve --signing-key new.key

The server refuses the old key from then on. Auditors verify with the whole
history, oldest first: warden log verify --trusted-key old.pub --trusted-key
new.pub; a checkpoint of the old key beyond the rotation, or of the new key
before it, fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return rotateKey(cmd.Context(), f, cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dataDir, "data-dir", envOr("WARDEN_DATA_DIR", DefaultDataDir), "data directory (env WARDEN_DATA_DIR)")
	fl.StringVar(&f.database, "database", envOr("WARDEN_DATABASE", ""), "SQLite database file (default <data-dir>/warden.db) or a postgres:// URL (env WARDEN_DATABASE)")
	fl.StringVar(&f.signingKey, "signing-key", "", "the current signing key file (default <data-dir>/signing.key)")
	fl.StringVar(&f.newKey, "new-key", "", "the new signing key file, from 'warden keygen'")
	fl.StringVar(&f.comment, "note", "", "a note recorded in every signing_key.rotated entry")
	return cmd
}

func openKeyStore(ctx context.Context, dataDir, database string) (keyStore, error) {
	if postgres.IsURL(database) {
		return postgres.Open(ctx, database, postgres.Options{MaxConns: 4})
	}
	path := database
	if path == "" {
		path = filepath.Join(dataDir, dbFile)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("database %q: %w", path, err)
	}
	return sqlite.Open(ctx, path, sqlite.Options{Exclusive: true})
}

func rotateKey(ctx context.Context, f *rotateFlags, stdout io.Writer) error {
	if f.newKey == "" {
		return &exitError{exitUsage, errors.New("rotate-key: --new-key FILE is required (make one with 'warden keygen --out FILE')")}
	}
	if strings.ContainsAny(f.comment, "\n") || len(f.comment) > 500 {
		return &exitError{exitUsage, errors.New("rotate-key: --note must be one line of at most 500 bytes")}
	}
	next, err := loadSigningKey(f.newKey)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	oldPath := f.signingKey
	if oldPath == "" {
		oldPath = filepath.Join(f.dataDir, keyFile)
	}
	old, err := loadSigningKey(oldPath)
	if err != nil {
		return &exitError{exitUsage, fmt.Errorf("rotate-key needs the current key to sign the handover: %w", err)}
	}
	db, err := openKeyStore(ctx, f.dataDir, f.database)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	defer db.Close()
	origin, err := db.Meta(ctx, "origin")
	if err != nil {
		return err
	}
	history, err := keyHistory(ctx, db)
	if err != nil {
		return err
	}
	if origin == "" || len(history) == 0 {
		return &exitError{exitUsage, errors.New("rotate-key: the database has no origin or key: start the server once first")}
	}
	current := history[len(history)-1]
	switch {
	case old.verifier != current:
		return &exitError{exitUsage, fmt.Errorf("rotate-key: %s is not the installation's current key (%s)", oldPath, current)}
	case next.verifier == current:
		return &exitError{exitUsage, fmt.Errorf("rotate-key: the new key %s is the current key", f.newKey)}
	case slices.Contains(history, next.verifier):
		return &exitError{exitUsage, fmt.Errorf("rotate-key: the new key %s was used before; a retired key never returns", f.newKey)}
	}
	tenants, err := db.Tenants(ctx)
	if err != nil {
		return err
	}
	l, err := ledger.New(db, ledger.Config{Origin: origin, Signer: old.signer})
	if err != nil {
		return err
	}
	body := &event.LogKeyRotated{OldKey: current, NewKey: next.verifier, Note: f.comment}
	for _, t := range tenants {
		seq, err := announceKey(ctx, db, l, t, body)
		if err != nil {
			_ = l.Close(context.Background())
			return err
		}
		fmt.Fprintf(stdout, "%-12s key rotation announced at seq %d, covered by a checkpoint of the old key\n", t, seq)
	}
	if err := l.Close(ctx); err != nil {
		return err
	}
	history = append(history, next.verifier)
	if err := db.SetMeta(ctx, metaVerifierKeys, strings.Join(history, "\n")); err != nil {
		return err
	}
	if err := db.SetMeta(ctx, metaVerifierKey, next.verifier); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "The installation now signs with %s.\nStart the server with --signing-key %s.\n", next.verifier, f.newKey)
	return nil
}

// announceKey appends the signing_key.rotated entry to a tenant's log (unless
// a run interrupted after it already did) and signs the checkpoint that
// covers it with the old key.
func announceKey(ctx context.Context, db ledger.Store, l *ledger.Ledger, tenant string, body *event.LogKeyRotated) (int64, error) {
	head, err := db.Head(ctx, tenant)
	if err != nil {
		return 0, err
	}
	seq := int64(-1)
	if head.Size > 0 {
		last, err := db.Records(ctx, tenant, head.Size-1, head.Size, 1)
		if err != nil {
			return 0, err
		}
		if len(last) == 1 && last[0].Kind == event.KindLogKeyRotated && last[0].Data != nil {
			if e, err := ledger.Parse(last[0].Data); err == nil {
				if k, err := ledger.DecodeKeyRotated(e.Body); err == nil && k.NewKey == body.NewKey {
					seq = last[0].Seq
				}
			}
		}
	}
	if seq < 0 {
		req, err := event.New(event.KindLogKeyRotated, event.ActorSystem, body)
		if err != nil {
			return 0, err
		}
		ack, err := l.Append(ctx, tenant, req)
		if err != nil {
			return 0, fmt.Errorf("rotate-key: announce in %q: %w", tenant, err)
		}
		seq = ack.Seq
	}
	cp, err := l.Checkpointer().Sign(ctx, tenant)
	if err != nil {
		return 0, fmt.Errorf("rotate-key: sign the handover of %q: %w", tenant, err)
	}
	if cp.Size != seq+1 {
		return 0, fmt.Errorf("rotate-key: the log of %q grew past the rotation (size %d, rotation at %d): is a server running?", tenant, cp.Size, seq)
	}
	return seq, nil
}
