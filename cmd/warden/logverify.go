package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/wardenhq/warden/client"
	"github.com/wardenhq/warden/internal/ledger"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type verifyFlags struct {
	src               logSource
	trustedKeys       []string
	trustedCheckpoint string
	origin            string
	jsonOut           bool
}

func newLogVerifyCmd() *cobra.Command {
	f := &verifyFlags{}
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify a log: every entry, the hash chain, the Merkle tree and the signed checkpoints",
		Long: `Verify tenants' logs entry by entry: canonical encoding, contiguous seq, the prev
chain, every leaf and stored tree hash, and every signed checkpoint against the
recomputed Merkle root.

Offline (default) it reads the data directory; with --url it reads a running
server through the API. Pass the public key you trust with --trusted-key: after
'warden log rotate-key', repeat it for every key of the history, oldest first
(a checkpoint of a key after its successor's announcement, or of a key before
a checkpoint of its predecessor covered the announcement, fails). Without it the
keys are taken from what is being verified, which proves consistency but not
authenticity. Entries whose data was pruned under retention are verified by
their stored hashes and listed as pruned; each must lie in a range a retention.pruned
entry declares. With
--trusted-checkpoint (an earlier checkpoint you kept) a log rewritten and
re-signed with a stolen key, or rolled back, also fails.

Exit status: 0 verified, 1 integrity failure (the first bad seq and why), 2 usage
or I/O error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVerify(cmd.Context(), f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f.src.bind(cmd)
	cmd.Flags().StringArrayVar(&f.trustedKeys, "trusted-key", nil, "file with a trusted verifier key (repeatable: the key history, oldest first)")
	cmd.Flags().StringVar(&f.trustedCheckpoint, "trusted-checkpoint", "", "file with an earlier signed checkpoint the log must extend (needs --tenant)")
	cmd.Flags().StringVar(&f.origin, "origin", "", "expected installation origin (online: default taken from the checkpoint)")
	cmd.Flags().BoolVar(&f.jsonOut, "json", false, "print the reports as JSON")
	return cmd
}

func runVerify(ctx context.Context, f *verifyFlags, stdout, stderr io.Writer) error {
	keys, err := readVerifierKeys(f.trustedKeys)
	if err != nil {
		return err
	}
	var trusted []byte
	if f.trustedCheckpoint != "" {
		if f.src.tenant == "" && !f.src.online() {
			return &exitError{exitUsage, errors.New("--trusted-checkpoint needs --tenant")}
		}
		if trusted, err = os.ReadFile(f.trustedCheckpoint); err != nil {
			return &exitError{exitUsage, fmt.Errorf("trusted checkpoint: %w", err)}
		}
	}
	var reports []*ledger.Report
	if f.src.online() {
		rep, err := verifyOnline(ctx, f, keys, trusted, stderr)
		if err != nil {
			return err
		}
		reports = append(reports, rep)
	} else if reports, err = verifyOffline(ctx, f, keys, trusted, stderr); err != nil {
		return err
	}
	failed := printReports(stdout, reports, f.jsonOut)
	if failed > 0 {
		return &exitError{exitIntegrity, fmt.Errorf("%d of %d logs failed verification", failed, len(reports))}
	}
	return nil
}

func printReports(w io.Writer, reports []*ledger.Report, asJSON bool) (failed int) {
	for _, r := range reports {
		if !r.OK {
			failed++
		}
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(reports)
		return failed
	}
	for _, r := range reports {
		if r.OK {
			fmt.Fprintf(w, "ok    %-12s %d entries, %d checkpoints verified, signed size %d, root %s (%s)\n",
				r.Tenant, r.Entries, r.Checkpoints, r.SignedSize, r.Root, r.Took)
			if r.Uncovered > 0 {
				fmt.Fprintf(w, "      %-12s %d newest entries are not yet covered by a signed checkpoint\n", "", r.Uncovered)
			}
			if r.Trusted > 0 {
				fmt.Fprintf(w, "      %-12s extends the trusted checkpoint of size %d\n", "", r.Trusted)
			}
			printPruned(w, r)
			continue
		}
		fmt.Fprintf(w, "FAIL  %-12s %s\n", r.Tenant, r.Failure.Error())
		printPruned(w, r)
	}
	return failed
}

// printPruned lists the ranges whose data was pruned under retention:
// their hashes verified, their content is gone by design.
func printPruned(w io.Writer, r *ledger.Report) {
	if len(r.Pruned) == 0 {
		return
	}
	var n int64
	ranges := make([]string, len(r.Pruned))
	for i, p := range r.Pruned {
		n += p[1] - p[0]
		ranges[i] = fmt.Sprintf("[%d, %d)", p[0], p[1])
	}
	fmt.Fprintf(w, "      %-12s pruned: %d entries without data, %s (hashes verified; data removed under retention)\n",
		"", n, strings.Join(ranges, ", "))
}

func progressFunc(stderr io.Writer, tenant string) func(done, total int64) {
	f, ok := stderr.(*os.File)
	if !ok || !isTerminal(f) {
		return nil
	}
	return func(done, total int64) {
		fmt.Fprintf(stderr, "\r  verifying %s: %d/%d entries", tenant, done, total)
		if done >= total {
			fmt.Fprint(stderr, "\r\033[K")
		}
	}
}

func verifyOffline(ctx context.Context, f *verifyFlags, keys []note.Verifier, trusted []byte, stderr io.Writer) ([]*ledger.Report, error) {
	db, origin, err := f.src.openStore(ctx)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if f.origin != "" && f.origin != origin {
		return nil, &exitError{exitIntegrity, fmt.Errorf("data directory's origin is %q, expected %q", origin, f.origin)}
	}
	if len(keys) == 0 {
		// The installation's own record of its key (or, for a data
		// directory from before it was kept, log.pub beside the database).
		hist, err := keyHistory(ctx, db)
		vkey := strings.Join(hist, "\n")
		if err == nil && vkey == "" {
			var b []byte
			b, err = os.ReadFile(filepath.Join(f.src.dataDir, pubFile))
			vkey = string(b)
		}
		if err != nil || strings.TrimSpace(vkey) == "" {
			return nil, &exitError{exitUsage, fmt.Errorf("no --trusted-key given and the database names no key: %v", err)}
		}
		if keys, err = parseVerifierKeys(strings.NewReader(vkey)); err != nil {
			return nil, &exitError{exitUsage, err}
		}
		fmt.Fprintln(stderr, "warning: no --trusted-key: trusting the key the database names (consistency, not authenticity)")
	}
	tenants := []string{f.src.tenant}
	if f.src.tenant == "" {
		if tenants, err = db.Tenants(ctx); err != nil {
			return nil, &exitError{exitUsage, err}
		}
	}
	var reports []*ledger.Report
	for _, t := range tenants {
		rep, err := ledger.VerifyStore(ctx, db, ledger.VerifyOptions{Tenant: t, Origin: origin, Keys: keys, Trusted: trusted},
			progressFunc(stderr, t))
		if err != nil {
			return nil, &exitError{exitUsage, err}
		}
		reports = append(reports, rep)
	}
	return reports, nil
}

// verifyOnline verifies the key's tenant's log through the API, with no
// trust in the server beyond the keys and checkpoint the user supplies.
func verifyOnline(ctx context.Context, f *verifyFlags, keys []note.Verifier, trusted []byte, stderr io.Writer) (*ledger.Report, error) {
	c, err := f.src.client()
	if err != nil {
		return nil, err
	}
	cp, err := c.Checkpoint(ctx)
	var apiErr *client.Error
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
		return nil, &exitError{exitUsage, errors.New("the server has signed no checkpoint for this log yet " +
			"(a new log's first one follows within a second): try again")}
	}
	if err != nil {
		return nil, &exitError{exitUsage, fmt.Errorf("read checkpoint: %w", err)}
	}
	first, _, _ := strings.Cut(string(cp), "\n")
	i := strings.LastIndex(first, "/")
	if i <= 0 {
		return nil, &exitError{exitIntegrity, fmt.Errorf("checkpoint origin %q is not <origin>/<tenant>", first)}
	}
	origin, tenant := first[:i], first[i+1:]
	if f.origin != "" && origin != f.origin {
		return nil, &exitError{exitIntegrity, fmt.Errorf("server's origin is %q, expected %q", origin, f.origin)}
	}
	if f.src.tenant != "" && tenant != f.src.tenant {
		return nil, &exitError{exitIntegrity, fmt.Errorf("server answered with the log of %q, asked for %q", tenant, f.src.tenant)}
	}
	if len(keys) == 0 {
		vkey, err := c.VerifierKey(ctx)
		if err != nil {
			return nil, &exitError{exitUsage, fmt.Errorf("read verifier key: %w", err)}
		}
		if keys, err = parseVerifierKeys(strings.NewReader(vkey)); err != nil {
			return nil, &exitError{exitUsage, err}
		}
		fmt.Fprintln(stderr, "warning: no --trusted-key: trusting the key the server serves (consistency, not authenticity)")
	}
	v, err := ledger.NewVerifier(ledger.VerifyOptions{Tenant: tenant, Origin: origin, Keys: keys, Trusted: trusted}, [][]byte{cp})
	if err != nil {
		return nil, &exitError{exitUsage, err}
	}
	progress := progressFunc(stderr, tenant)
	cursor := ""
	for v.Failed() == nil {
		page, err := c.Entries(ctx, 0, -1, cursor, 1000)
		if err != nil {
			return nil, &exitError{exitUsage, fmt.Errorf("read entries: %w", err)}
		}
		for _, e := range page.Entries {
			if addServed(v, e) != nil {
				break
			}
			if rotated(e) {
				// The handover: the old key's checkpoint covering the
				// announcement, which the latest checkpoint does not show.
				cp, err := c.CheckpointAt(ctx, e.Seq+1)
				if err != nil {
					return nil, &exitError{exitUsage, fmt.Errorf("read the checkpoint of size %d (key rotation at seq %d): %w", e.Seq+1, e.Seq, err)}
				}
				if v.AddCheckpoints([][]byte{cp}) != nil {
					break
				}
			}
		}
		if progress != nil {
			progress(v.Size(), v.Size())
		}
		if page.NextCursor == "" || len(page.Entries) == 0 {
			break
		}
		cursor = page.NextCursor
	}
	return v.Finish(), nil
}

// rotated reports whether a served entry is a signing_key.rotated entry.
func rotated(e client.Entry) bool {
	var env struct {
		Kind string `json:"kind"`
	}
	return !e.Pruned && json.Unmarshal(e.Entry, &env) == nil && env.Kind == ledger.KindLogKeyRotated
}

// addServed feeds one served entry to the verifier: the hashed bytes are
// the canonical encoding of the served object, and the served leaf hash
// must match them.
func addServed(v *ledger.Verifier, e client.Entry) *ledger.Failure {
	if e.Pruned || string(e.Entry) == "null" {
		// Pruned: the served leaf hash stands in for the data; the
		// checkpoint's root and a retention.pruned entry must vouch for it.
		leaf, err := ledger.DecodeHash(e.LeafHash)
		if err != nil {
			return v.Add(nil, nil)
		}
		return v.Add(nil, []tlog.Hash{leaf})
	}
	_, canon, err := ledger.ParseObject(e.Entry)
	if err != nil {
		return v.Add(e.Entry, nil) // reports the malformed entry at its position
	}
	leaf, err := ledger.DecodeHash(e.LeafHash)
	if err != nil {
		leaf = tlog.Hash{} // a malformed claim can only mismatch
	}
	return v.Add(canon, []tlog.Hash{leaf})
}
