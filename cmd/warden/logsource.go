package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/wardenhq/warden/client"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/store/postgres"
	"github.com/wardenhq/warden/internal/store/sqlite"
	"golang.org/x/mod/sumdb/note"
)

// remote is how a client command reaches a server.
type remote struct {
	url, key, tenant string
}

func (r *remote) bind(cmd *cobra.Command, tenantHelp string) {
	f := cmd.Flags()
	f.StringVar(&r.url, "url", envOr("WARDEN_URL", client.DefaultURL), "server (env WARDEN_URL)")
	f.StringVar(&r.key, "key", os.Getenv("WARDEN_KEY"), "API key (env WARDEN_KEY)")
	f.StringVar(&r.tenant, "tenant", "", tenantHelp)
}

func (r *remote) client() (*client.Client, error) {
	var opts []client.Option
	if r.tenant != "" {
		opts = append(opts, client.WithTenant(r.tenant))
	}
	if r.key == "" {
		return nil, &exitError{exitUsage, errors.New("--key (or WARDEN_KEY) is required")}
	}
	c, err := client.New(r.url, r.key, opts...)
	if err != nil {
		return nil, &exitError{exitUsage, err}
	}
	return c, nil
}

// logSource is where a log command reads a log: a server (--url) or a
// data directory on disk.
type logSource struct {
	remote
	dataDir, database string
	cmd               *cobra.Command
}

func (s *logSource) bind(cmd *cobra.Command) {
	s.cmd = cmd
	s.remote.bind(cmd, "tenant whose log to read (offline: default every tenant; online: the key's own, or any for an owner key)")
	f := cmd.Flags()
	f.StringVar(&s.dataDir, "data-dir", envOr("WARDEN_DATA_DIR", DefaultDataDir), "data directory to read offline (env WARDEN_DATA_DIR)")
	f.StringVar(&s.database, "database", "", "database to read offline: an SQLite file (default <data-dir>/warden.db) or a postgres:// URL")
}

// online reports whether the command talks to a server.
func (s *logSource) online() bool {
	f := s.cmd.Flags()
	if f.Changed("url") {
		return true
	}
	return os.Getenv("WARDEN_URL") != "" && !f.Changed("data-dir") && !f.Changed("database")
}

// readStore is what the log commands read from a database.
type readStore interface {
	ledger.Store
	Meta(ctx context.Context, key string) (string, error)
	Close() error
}

// openStore opens the database to read: the data directory's SQLite file
// (read-only) or a PostgreSQL database named by --database.
func (s *logSource) openStore(ctx context.Context) (readStore, string, error) {
	var db readStore
	path := s.database
	if postgres.IsURL(path) {
		pg, err := postgres.Open(ctx, path, postgres.Options{MaxConns: 4})
		if err != nil {
			return nil, "", &exitError{exitUsage, err}
		}
		db, path = pg, "postgres"
	} else {
		if path == "" {
			path = filepath.Join(s.dataDir, dbFile)
		}
		if _, err := os.Stat(path); err != nil {
			return nil, "", &exitError{exitUsage, fmt.Errorf("database %q: %w", path, err)}
		}
		lite, err := sqlite.Open(ctx, path, sqlite.Options{ReadOnly: true})
		if err != nil {
			return nil, "", &exitError{exitUsage, err}
		}
		db = lite
	}
	origin, err := db.Meta(ctx, "origin")
	if err == nil && origin == "" {
		err = fmt.Errorf("database %q has no origin: not a Warden database", path)
	}
	if err != nil {
		db.Close()
		return nil, "", &exitError{exitUsage, err}
	}
	return db, origin, nil
}

// readVerifierKeys reads verifier keys from files, one key per non-empty,
// non-comment line.
func readVerifierKeys(paths []string) ([]note.Verifier, error) {
	var out []note.Verifier
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, &exitError{exitUsage, fmt.Errorf("trusted key: %w", err)}
		}
		keys, err := parseVerifierKeys(bytes.NewReader(b))
		if err != nil {
			return nil, &exitError{exitUsage, fmt.Errorf("trusted key %q: %w", p, err)}
		}
		out = append(out, keys...)
	}
	return out, nil
}

func parseVerifierKeys(r io.Reader) ([]note.Verifier, error) {
	var out []note.Verifier
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		v, err := note.NewVerifier(line)
		if err != nil {
			return nil, fmt.Errorf("not a sumdb/note verifier key: %w", err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("no verifier key in file")
	}
	return out, nil
}

// isTerminal reports whether f is a character device (a terminal), where
// progress is shown.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
