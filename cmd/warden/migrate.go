package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/wardenhq/warden/internal/store/postgres"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

func newMigrateCmd() *cobra.Command {
	var database, dataDir string
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Bring the database schema up to this binary's version",
		Long: `Bring the database schema up to this binary's version. It is idempotent and
safe to run from several hosts at once. 'warden serve' on PostgreSQL refuses
an unmigrated or newer schema, so run this first after installing or
upgrading; an SQLite data directory is migrated by 'warden serve' itself.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runMigrate(cmd.Context(), database, dataDir, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&database, "database", envOr("WARDEN_DATABASE", ""), "postgres:// URL or SQLite file (default <data-dir>/warden.db; env WARDEN_DATABASE)")
	cmd.Flags().StringVar(&dataDir, "data-dir", envOr("WARDEN_DATA_DIR", DefaultDataDir), "data directory (SQLite)")
	return cmd
}

func runMigrate(ctx context.Context, database, dataDir string, w io.Writer) error {
	if postgres.IsURL(database) {
		from, to, err := postgres.Migrate(ctx, database)
		if err != nil {
			return err
		}
		if from == to {
			fmt.Fprintf(w, "schema is at version %d: nothing to do\n", to)
		} else {
			fmt.Fprintf(w, "migrated schema from version %d to %d\n", from, to)
		}
		return nil
	}
	path := database
	if path == "" {
		path = filepath.Join(dataDir, dbFile)
	}
	db, err := sqlite.Open(ctx, path, sqlite.Options{Exclusive: true})
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(w, "SQLite %s is at the current schema\n", path)
	return nil
}
