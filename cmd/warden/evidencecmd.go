package main

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	"github.com/wardenhq/warden/internal/evidence"
)

func newEvidenceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "evidence",
		Short: "Export and verify SOC 2 evidence archives",
		Long: `Export a tenant's SOC 2 evidence for a period as one zip archive, and verify
such an archive offline.

An archive holds every ledger entry of the period (exact bytes, and a CSV for
spreadsheets), the signed checkpoints at its start and end with the proofs that
the period is complete, the policies, access, kill switches, alerts,
incidents, approvals, monitoring heartbeats and settings of the period,
report.html for people and controls.json for tools, and manifest.json with
every file's SHA-256, signed with the log key (manifest.sig). The auditor
verifies it with the log key they hold, never one the archive offers.`,
	}
	cmd.AddCommand(newEvidenceExportCmd(), newEvidenceVerifyCmd())
	return cmd
}

// parsePeriodBound reads an RFC 3339 time or a date (2026-01-01, UTC midnight).
func parsePeriodBound(flag, s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, &exitError{exitUsage, fmt.Errorf("%s %q: want an RFC 3339 time or a date (2026-01-01)", flag, s)}
}

func newEvidenceExportCmd() *cobra.Command {
	var (
		r           remote
		fromS, toS  string
		out, format string
		trustedSize int64
	)
	cmd := &cobra.Command{
		Use:   "export --from WHEN --to WHEN --out FILE [--format oscal]",
		Short: "Export the evidence archive of a period (auditor, admin or owner keys)",
		Long: `Export the tenant's evidence archive of [--from, --to) through the server into
--out (a zip; written to FILE.partial and renamed when complete). The period
must have ended. Times are RFC 3339 or dates (UTC midnight). With --format
oscal the archive also holds the OSCAL assessment results, which are written
beside it as well (FILE without .zip, plus .oscal.json). The export is
recorded in the tenant's log (evidence.exported).

Verify the archive with 'warden evidence verify'. Exit status: 0 exported, 1
refused (this key may not export), 2 usage, connection or server errors.`,
		Example: `  warden evidence export --from 2026-01-01 --to 2026-04-01 --out q1.zip
  warden evidence export --from 2026-01-01 --to 2027-01-01 --out year.zip --format oscal --tenant acme`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, err := parsePeriodBound("--from", fromS)
			if err != nil {
				return err
			}
			to, err := parsePeriodBound("--to", toS)
			if err != nil {
				return err
			}
			if format != "" && format != "oscal" {
				return &exitError{exitUsage, fmt.Errorf("--format %q: the only format is oscal", format)}
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			partial := out + ".partial"
			f, err := os.OpenFile(partial, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if err != nil {
				return &exitError{exitUsage, err}
			}
			w := io.Writer(f)
			if pf, ok := cmd.ErrOrStderr().(*os.File); ok && isTerminal(pf) {
				w = &byteProgress{w: f, out: pf}
			}
			n, err := c.Evidence(cmd.Context(), from, to, format, trustedSize, w)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				os.Remove(partial)
				return refused(err, "this key may not export evidence", "", "")
			}
			if err := os.Rename(partial, out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%d bytes)\n", out, n)
			if format == "oscal" {
				dst := strings.TrimSuffix(out, filepath.Ext(out)) + ".oscal.json"
				if err := extract(out, evidence.FileOSCAL, dst); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", dst)
			}
			return nil
		},
	}
	r.bind(cmd, "tenant (owner keys)")
	f := cmd.Flags()
	f.StringVar(&fromS, "from", "", "start of the period (RFC 3339 or a date), included")
	f.StringVar(&toS, "to", "", "end of the period (RFC 3339 or a date), excluded; it must have passed")
	f.StringVar(&out, "out", "", "the archive to write (a .zip)")
	f.StringVar(&format, "format", "", "oscal: also the OSCAL assessment results")
	f.Int64Var(&trustedSize, "trusted-size", 0, "the size of a checkpoint the auditor keeps: the archive proves that the log extends it (for verify --trusted-checkpoint)")
	_ = cmd.MarkFlagRequired("from")
	_ = cmd.MarkFlagRequired("to")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// byteProgress shows how much of a download has arrived.
type byteProgress struct {
	w    io.Writer
	out  io.Writer
	n    int64
	last time.Time
}

func (p *byteProgress) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.n += int64(n)
	if now := time.Now(); now.Sub(p.last) > 200*time.Millisecond {
		p.last = now
		fmt.Fprintf(p.out, "\r%.1f MB received", float64(p.n)/1e6)
	}
	return n, err
}

// extract copies one file of a zip archive to dst.
func extract(archive, name, dst string) error {
	zr, err := zip.OpenReader(archive)
	if err != nil {
		return err
	}
	defer zr.Close()
	rc, err := zr.Open(name)
	if err != nil {
		return fmt.Errorf("%s has no %s: %w", archive, name, err)
	}
	defer rc.Close()
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func newEvidenceVerifyCmd() *cobra.Command {
	var (
		keyFiles []string
		trusted  string
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "verify FILE --trusted-key KEYFILE [--trusted-key KEYFILE]... [--trusted-checkpoint FILE]",
		Short: "Verify an evidence archive offline",
		Long: `Verify an evidence archive offline, against the log key you trust: a file with
the verifier key (as 'warden log key' or log.pub prints it). Repeat
--trusted-key for a key history, oldest first, or give one file with a key a
line (log.pub holds the history after 'warden log rotate-key'). The archive's own claims about
keys are never trusted.

Each check prints ok or FAIL with why: the manifest's signature, every file's
SHA-256, every entry (parsed, the tenant's, in the period, in seq order), the
chain of entries, the start and end checkpoints, the consistency proof between
them, the inclusion proofs of the first and last entries, the entries just
outside the period (no entry missing at either end), pruned entries declared
by a prune, and the policy files' digests. With --trusted-checkpoint, a
checkpoint you kept before, the archive's log must extend it.

Exit status: 0 the archive verifies, 1 it does not (tampered, incomplete or
signed by another key), 2 usage or an unreadable file.`,
		Example: `  warden evidence verify q1.zip --trusted-key log.pub`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(keyFiles) == 0 {
				return &exitError{exitUsage, errors.New("--trusted-key is required: the log key you trust, never the archive's")}
			}
			var keys []note.Verifier
			for _, kf := range keyFiles {
				b, err := os.ReadFile(kf)
				if err != nil {
					return &exitError{exitUsage, err}
				}
				// A file may hold a key history, one key a line, oldest first
				// (log.pub after a rotation).
				for _, line := range strings.Split(string(b), "\n") {
					if line = strings.TrimSpace(line); line == "" {
						continue
					}
					v, err := note.NewVerifier(line)
					if err != nil {
						return &exitError{exitUsage, fmt.Errorf("--trusted-key %s: %w", kf, err)}
					}
					keys = append(keys, v)
				}
			}
			opts := evidence.VerifyOptions{Keys: keys}
			if trusted != "" {
				b, err := os.ReadFile(trusted)
				if err != nil {
					return &exitError{exitUsage, err}
				}
				opts.Trusted = b
			}
			f, err := os.Open(args[0])
			if err != nil {
				return &exitError{exitUsage, err}
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return &exitError{exitUsage, err}
			}
			v, m, err := evidence.Verify(f, st.Size(), opts)
			if err != nil {
				return &exitError{exitUsage, err}
			}
			if asJSON {
				if err := printJSON(cmd.OutOrStdout(), struct {
					Manifest     *evidence.Manifest     `json:"manifest"`
					Verification *evidence.Verification `json:"verification"`
				}{m, v}); err != nil {
					return err
				}
			} else {
				if m != nil {
					fmt.Fprintf(cmd.OutOrStdout(), "archive of tenant %s, %s to %s: %d entries (seq %d to %d), made %s by %s\n",
						m.Tenant, m.From.Format(time.RFC3339), m.To.Format(time.RFC3339), m.Entries, m.FirstSeq, m.LastSeq,
						m.Generated.Format(time.RFC3339), m.Generator)
				}
				fmt.Fprint(cmd.OutOrStdout(), v.Format())
			}
			if !v.OK {
				return &exitError{exitIntegrity, errors.New("the archive does not verify")}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&keyFiles, "trusted-key", nil, "file with a log verifier key you trust (repeat for a key history, oldest first)")
	f.StringVar(&trusted, "trusted-checkpoint", "", "a checkpoint you kept: the archive's log must extend it")
	f.BoolVar(&asJSON, "json", false, "print the manifest and the verdicts as JSON")
	return cmd
}
