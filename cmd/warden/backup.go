package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/store/postgres"
	"github.com/wardenhq/warden/internal/store/sqlite"
	"golang.org/x/mod/sumdb/note"
)

const pgBackupHelp = `warden backup does not copy PostgreSQL databases; use PostgreSQL's tools:
  pg_dump --format=custom --file=warden.dump "$WARDEN_DATABASE"
and to restore into a new, empty database:
  pg_restore --no-owner --dbname="$NEW_DATABASE" warden.dump
  warden log verify --url ... --trusted-key <your copy of the verifier key>
(README, "Backups")`

func newBackupCmd() *cobra.Command {
	var out, database, dataDir string
	cmd := &cobra.Command{
		Use:   "backup --out FILE",
		Short: "Write a consistent copy of the SQLite database, online",
		Long: `Write a consistent copy of the SQLite database to FILE while the server keeps
running (one snapshot: every entry and checkpoint up to a moment, nothing
half-written). Restore it with 'warden restore'. The signing key is not in the
copy: keep it (and its verifier key) safe on its own.

For PostgreSQL use pg_dump; 'warden backup --database postgres://...' prints how.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if postgres.IsURL(database) {
				return &exitError{exitUsage, errors.New(pgBackupHelp)}
			}
			if out == "" {
				return &exitError{exitUsage, errors.New("backup: --out FILE is required")}
			}
			path := database
			if path == "" {
				path = filepath.Join(dataDir, dbFile)
			}
			if _, err := os.Stat(path); err != nil {
				return &exitError{exitUsage, fmt.Errorf("backup: database %q: %w", path, err)}
			}
			db, err := sqlite.Open(cmd.Context(), path, sqlite.Options{ReadOnly: true})
			if err != nil {
				return &exitError{exitUsage, err}
			}
			defer db.Close()
			start := time.Now()
			if err := db.Backup(cmd.Context(), out); err != nil {
				return err
			}
			st, err := os.Stat(out)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backed up %s to %s (%d bytes, %s)\n", path, out, st.Size(), time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write (must not exist)")
	cmd.Flags().StringVar(&database, "database", envOr("WARDEN_DATABASE", ""), "SQLite database file (default <data-dir>/warden.db)")
	cmd.Flags().StringVar(&dataDir, "data-dir", envOr("WARDEN_DATA_DIR", DefaultDataDir), "data directory")
	return cmd
}

func newRestoreCmd() *cobra.Command {
	var from, database, dataDir string
	var trustedKeys []string
	var force bool
	cmd := &cobra.Command{
		Use:   "restore --from FILE",
		Short: "Install a backup as the SQLite database (the server must be stopped)",
		Long: `Copy a backup made by 'warden backup' beside the data directory's database,
verify every log in that copy, and install it atomically. Stop the server first. An existing database is
refused unless --force, which moves it (and its WAL files) aside with a
time-stamped name rather than deleting it.

The backup's logs are verified before anything changes, with --trusted-key
or, failing that, the data directory's log.pub.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRestore(cmd.Context(), from, database, dataDir, trustedKeys, force, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "backup file to restore")
	cmd.Flags().StringVar(&database, "database", envOr("WARDEN_DATABASE", ""), "SQLite database file to create (default <data-dir>/warden.db; env WARDEN_DATABASE)")
	cmd.Flags().StringVar(&dataDir, "data-dir", envOr("WARDEN_DATA_DIR", DefaultDataDir), "data directory")
	cmd.Flags().StringArrayVar(&trustedKeys, "trusted-key", nil, "file with a trusted verifier key (repeatable)")
	cmd.Flags().BoolVar(&force, "force", false, "move an existing database aside instead of refusing")
	return cmd
}

func runRestore(ctx context.Context, from, database, dataDir string, keyFiles []string, force bool, stdout, stderr io.Writer) error {
	if from == "" {
		return &exitError{exitUsage, errors.New("restore: --from FILE is required")}
	}
	if postgres.IsURL(database) {
		return &exitError{exitUsage, errors.New(pgBackupHelp)}
	}
	dest := database
	if dest == "" {
		dest = filepath.Join(dataDir, dbFile)
	}
	if len(keyFiles) == 0 {
		if _, err := os.Stat(filepath.Join(dataDir, pubFile)); err == nil {
			keyFiles = []string{filepath.Join(dataDir, pubFile)}
		} else {
			return &exitError{exitUsage, fmt.Errorf("restore: no --trusted-key and no %s in %s to verify the backup with", pubFile, dataDir)}
		}
	}
	keys, err := readVerifierKeys(keyFiles)
	if err != nil {
		return err
	}
	if st, err := os.Stat(from); err != nil || !st.Mode().IsRegular() {
		return &exitError{exitUsage, fmt.Errorf("restore: %s is not a readable file", from)}
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
		return err
	}
	var makeRoom func() error
	if _, err := os.Stat(dest); err == nil {
		if !force {
			return &exitError{exitUsage, fmt.Errorf("restore: %s exists; stop the server and pass --force to move it aside", dest)}
		}
		// Moved aside only once the backup has passed verification.
		makeRoom = func() error {
			aside := asideName(dest, time.Now())
			for _, suffix := range []string{"", "-wal", "-shm"} {
				if _, err := os.Stat(dest + suffix); err == nil {
					if err := os.Rename(dest+suffix, aside+suffix); err != nil {
						return fmt.Errorf("restore: move %s aside: %w", dest+suffix, err)
					}
				}
			}
			fmt.Fprintf(stderr, "moved the old database aside to %s\n", aside)
			return nil
		}
	}
	// The copy that is verified is the copy that is installed.
	check := func(copy string) error { return verifyBackup(ctx, copy, from, keys, stdout) }
	if err := sqlite.Restore(from, dest, check, makeRoom); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s to %s\n", from, dest)
	return nil
}

// asideName returns a time-stamped name beside dest for the database that
// restore --force replaces. No file (nor WAL file) may already use it: a
// rename would silently overwrite an earlier replaced database.
func asideName(dest string, now time.Time) string {
	base := fmt.Sprintf("%s.replaced-%s", dest, now.UTC().Format("20060102T150405Z"))
	taken := func(name string) bool {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if _, err := os.Lstat(name + suffix); err == nil {
				return true
			}
		}
		return false
	}
	aside := base
	for i := 2; taken(aside); i++ {
		aside = fmt.Sprintf("%s.%d", base, i)
	}
	return aside
}

// verifyBackup verifies every log in a backup file before it is installed.
func verifyBackup(ctx context.Context, path, name string, keys []note.Verifier, w io.Writer) error {
	db, err := sqlite.Open(ctx, path, sqlite.Options{ReadOnly: true})
	if err != nil {
		return &exitError{exitUsage, fmt.Errorf("restore: %s is not a Warden database: %w", name, err)}
	}
	defer db.Close()
	origin, err := db.Meta(ctx, "origin")
	if err != nil || origin == "" {
		return &exitError{exitUsage, fmt.Errorf("restore: %s has no origin: not a Warden database", name)}
	}
	tenants, err := db.Tenants(ctx)
	if err != nil {
		return err
	}
	var reports []*ledger.Report
	for _, t := range tenants {
		rep, err := ledger.VerifyStore(ctx, db, ledger.VerifyOptions{Tenant: t, Origin: origin, Keys: keys}, nil)
		if err != nil {
			return err
		}
		reports = append(reports, rep)
	}
	if failed := printReports(w, reports, false); failed > 0 {
		return &exitError{exitIntegrity, fmt.Errorf("restore: %d logs in the backup failed verification; nothing was changed", failed)}
	}
	return nil
}
