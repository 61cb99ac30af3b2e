package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// The change workflow of policies: push, approve by other keys, try as
// the candidate in shadow, activate.

// activateRefused explains a refused activation: a 409 means the version
// lacks the approvals the tenant requires.
func activateRefused(err error, name string, n int64) error {
	return refused(err,
		fmt.Sprintf("this key may not activate %s version %d", name, n),
		fmt.Sprintf("%s version %d was not activated", name, n),
		fmt.Sprintf("keys other than its author approve it with 'warden policy approve %s %d'", name, n))
}

func newPolicyApproveCmd() *cobra.Command {
	var (
		r      remote
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "approve NAME VERSION",
		Short: "Approve a pushed policy version so that it can be activated",
		Long: `Approve a policy version (policy_author or admin keys). A version is activated
only once keys other than the one that pushed it have approved it as many times
as the tenant's policy_approvals setting requires; the author's own approval is
refused. Every approval is an entry in the tenant's log. Exit status: 0
approved, 1 refused (this key pushed the version, or approved it already), 2
usage, connection or other server errors.`,
		Example: `  warden policy approve payments 3`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, n, err := parseVersionArgs(args)
			if err != nil {
				return err
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			out, err := c.ApprovePolicy(cmd.Context(), name, n)
			if err != nil {
				return refused(err,
					fmt.Sprintf("this key may not approve %s version %d", name, n),
					fmt.Sprintf("%s version %d was not approved again", name, n), "")
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), out)
			}
			keys := make([]string, len(out.Approvals))
			for i, a := range out.Approvals {
				keys[i] = a.KeyID
			}
			fmt.Fprintf(cmd.OutOrStdout(), "approved %s version %d: %d approvals (%s)\n", out.Name, out.Version, len(out.Approvals), strings.Join(keys, ", "))
			return nil
		},
	}
	r.bind(cmd, "tenant (owner keys)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the version's approvals as JSON")
	return cmd
}

func newPolicyCandidateCmd() *cobra.Command {
	var (
		r                 remote
		clearCand, asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "candidate (NAME VERSION | --clear)",
		Short: "Evaluate a policy version in shadow on every decision, or stop",
		Long: `Make a pushed policy version the tenant's candidate: from now on every decision
is also evaluated under it, and the answer carries what it would have decided
in its "shadow" field (see 'warden evaluate'). The candidate never changes a
decision, and needs no approval. A new candidate replaces the old one;
--clear ends shadow evaluation.`,
		Example: `  warden policy candidate payments 4
  warden policy candidate --clear`,
		Args: func(_ *cobra.Command, args []string) error {
			switch {
			case clearCand && len(args) != 0:
				return errors.New("--clear takes no NAME VERSION")
			case !clearCand && len(args) != 2:
				return errors.New("give NAME VERSION, or --clear")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			if clearCand {
				if err := c.ClearCandidate(cmd.Context()); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), "no candidate: decisions are no longer evaluated in shadow")
				return nil
			}
			name, n, err := parseVersionArgs(args)
			if err != nil {
				return err
			}
			cand, err := c.SetCandidate(cmd.Context(), name, n)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), cand)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "candidate %s version %d: evaluated in shadow on every decision from %s\n", cand.Name, cand.Version, fmtTime(&cand.SetAt))
			return nil
		},
	}
	r.bind(cmd, "tenant (owner keys)")
	cmd.Flags().BoolVar(&clearCand, "clear", false, "end shadow evaluation")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the candidate as JSON")
	return cmd
}

func newPolicyActivationsCmd() *cobra.Command {
	var (
		r      remote
		limit  int
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "activations [--limit N]",
		Short: "List the tenant's policy activations, newest first",
		Long: `List who activated which policy version when, newest first: the tenant's
activation history. The first row is the active policy.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 || limit > 1000 {
				return &exitError{exitUsage, fmt.Errorf("--limit %d must be from 1 to 1000", limit)}
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			as, err := c.Activations(cmd.Context(), limit)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]any{"activations": as})
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ACTIVATED\tNAME\tVERSION\tBY")
			for i := range as {
				a := &as[i]
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", fmtTime(&a.ActivatedAt), a.Name, a.Version, a.ActivatedBy)
			}
			return tw.Flush()
		},
	}
	r.bind(cmd, "tenant (owner keys)")
	cmd.Flags().IntVar(&limit, "limit", 100, "how many activations to list (at most 1000)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the activations as JSON")
	return cmd
}
