package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/wardenhq/warden/internal/ledger"
	"golang.org/x/mod/sumdb/note"
)

// signingKey is a loaded checkpoint signing key.
type signingKey struct {
	signer   note.Signer
	verifier string // verifier key text
	path     string
	// redaction is the secret the tenants' redaction HMAC keys derive
	// from. It comes from the signing key so that it lives where the key
	// does, away from the database whose redacted values it protects.
	redaction []byte
	// authorization keys the HMACs that are approved requests'
	// single-use authorizations: nothing of a token is stored.
	authorization []byte
}

// authorizationSecret derives the authorization key from a signer key.
func authorizationSecret(skey string) []byte {
	h := sha256.Sum256([]byte("warden authorization secret v1\x00" + skey))
	return h[:]
}

// redactionSecret derives the redaction secret from a signer key.
func redactionSecret(skey string) []byte {
	h := sha256.Sum256([]byte("warden redaction secret v1\x00" + skey))
	return h[:]
}

// writeKeyFile creates path with the signer key, mode 0600, refusing to
// overwrite an existing file.
func writeKeyFile(path, skey string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write signing key %q: %w", path, err)
	}
	if _, err := f.WriteString(skey + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("write signing key %q: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write signing key %q: %w", path, err)
	}
	return f.Close()
}

// loadSigningKey reads a signer key file. A file that others can read is
// refused: the key is what makes checkpoints trustworthy.
func loadSigningKey(path string) (*signingKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("signing key %q: %w", path, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("signing key %q is readable by others (mode %v); run chmod 600 on it", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key %q: %w", path, err)
	}
	skey := strings.TrimSpace(string(b))
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("signing key %q: not a sumdb/note signer key", path)
	}
	vkey, err := ledger.VerifierKey(skey)
	if err != nil {
		return nil, fmt.Errorf("signing key %q: %w", path, err)
	}
	return &signingKey{signer: signer, verifier: vkey, path: path, redaction: redactionSecret(skey),
		authorization: authorizationSecret(skey)}, nil
}

// ensureSigningKey loads path, or generates it (named name) if it does not
// exist yet. It reports whether it generated the key.
func ensureSigningKey(path, name string) (*signingKey, bool, error) {
	k, err := loadSigningKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, false, err
	}
	skey, _, err := ledger.GenerateKey(name)
	if err != nil {
		return nil, false, err
	}
	if err := writeKeyFile(path, skey); err != nil {
		return nil, false, err
	}
	k, err = loadSigningKey(path)
	return k, true, err
}

func newKeygenCmd() *cobra.Command {
	var out, name string
	cmd := &cobra.Command{
		Use:   "keygen --out FILE",
		Short: "Generate a checkpoint signing key",
		Long: `Generate an Ed25519 checkpoint signing key in sumdb/note form, write it to
FILE (mode 0600, never overwriting), and print its verifier key.

Give the verifier key to auditors: they pass it to 'warden log verify
--trusted-key'. Keep FILE outside the data directory in production and give
every replica of one installation the same file (warden serve --signing-key).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return &exitError{exitUsage, errors.New("keygen: --out FILE is required")}
			}
			skey, vkey, err := ledger.GenerateKey(name)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(out), 0o700); err != nil {
				return err
			}
			if err := writeKeyFile(out, skey); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), vkey)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write the signing key to (must not exist)")
	cmd.Flags().StringVar(&name, "name", "warden", "key name (shown in signatures; usually the origin)")
	return cmd
}
