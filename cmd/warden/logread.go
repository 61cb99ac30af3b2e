package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/wardenhq/warden/internal/api"
	"github.com/wardenhq/warden/internal/ledger"
	"golang.org/x/mod/sumdb/tlog"
)

func newLogCheckpointCmd() *cobra.Command {
	var src logSource
	cmd := &cobra.Command{
		Use:   "checkpoint",
		Short: "Print the latest signed checkpoint of a tenant's log",
		Long: `Print the latest signed checkpoint (a C2SP tlog-checkpoint note). Keep it: given
later to 'warden log verify --trusted-checkpoint', it proves the log was neither
rewritten nor rolled back since.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if src.online() {
				c, err := src.client()
				if err != nil {
					return err
				}
				cp, err := c.Checkpoint(ctx)
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(cp)
				return err
			}
			db, _, err := src.openStore(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			cp, err := db.LatestCheckpoint(ctx, tenantOrDefault(src.tenant))
			if err != nil {
				return &exitError{exitUsage, err}
			}
			_, err = cmd.OutOrStdout().Write(cp.Note)
			return err
		},
	}
	src.bind(cmd)
	return cmd
}

func tenantOrDefault(t string) string {
	if t == "" {
		return "default"
	}
	return t
}

type proofFlags struct {
	src                 logSource
	seq, size, from, to int64
}

func newLogProofCmd() *cobra.Command {
	f := &proofFlags{}
	cmd := &cobra.Command{
		Use:   "proof (--seq N [--size M] | --from A [--to B])",
		Short: "Print an inclusion or consistency proof",
		Long: `Print an inclusion proof (entry --seq in the tree of --size) or a consistency
proof (tree size --from is a prefix of size --to) as JSON, in the shape of the
API. Sizes default to the latest checkpoint's.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runProof(cmd.Context(), cmd, f, cmd.OutOrStdout()) },
	}
	f.src.bind(cmd)
	cmd.Flags().Int64Var(&f.seq, "seq", -1, "entry for an inclusion proof")
	cmd.Flags().Int64Var(&f.size, "size", 0, "tree size for an inclusion proof (default: latest checkpoint)")
	cmd.Flags().Int64Var(&f.from, "from", 0, "smaller tree size for a consistency proof")
	cmd.Flags().Int64Var(&f.to, "to", 0, "larger tree size for a consistency proof (default: latest checkpoint)")
	return cmd
}

func runProof(ctx context.Context, cmd *cobra.Command, f *proofFlags, w io.Writer) error {
	inclusion, consistency := f.seq >= 0, cmd.Flags().Changed("from")
	if inclusion == consistency {
		return &exitError{exitUsage, errors.New("give either --seq (inclusion) or --from (consistency)")}
	}
	var out any
	if f.src.online() {
		c, err := f.src.client()
		if err != nil {
			return err
		}
		if inclusion {
			out, err = c.GetInclusionProof(ctx, f.seq, f.size)
		} else {
			out, err = c.GetConsistencyProof(ctx, f.from, f.to)
		}
		if err != nil {
			return err
		}
	} else {
		db, _, err := f.src.openStore(ctx)
		if err != nil {
			return err
		}
		defer db.Close()
		tenant := tenantOrDefault(f.src.tenant)
		size := f.size
		if !inclusion {
			size = f.to
		}
		if size <= 0 {
			cp, err := db.LatestCheckpoint(ctx, tenant)
			if err != nil {
				return &exitError{exitUsage, err}
			}
			size = cp.Size
		}
		if inclusion {
			p, err := ledger.InclusionProof(ctx, db, tenant, f.seq, size)
			if err != nil {
				return &exitError{exitUsage, err}
			}
			out = api.InclusionJSON{Seq: f.seq, Size: size, Proof: encodeHashes(p)}
		} else {
			p, err := ledger.ConsistencyProof(ctx, db, tenant, f.from, size)
			if err != nil {
				return &exitError{exitUsage, err}
			}
			out = api.ConsistencyJSON{From: f.from, To: size, Proof: encodeHashes(p)}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write proof: %w", err)
	}
	return nil
}

func encodeHashes(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = ledger.EncodeHash(h)
	}
	return out
}
