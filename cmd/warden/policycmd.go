package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/wardenhq/warden/internal/policy"
)

func newPolicyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Check, push, approve and activate policies",
		Long: `Work with a tenant's policies. The change workflow: 'lint' and 'test' a file
offline, 'push' it as a new version, 'diff' it against the active one, make it
the 'candidate' to see in shadow what it would decide, have keys other than its
author 'approve' it as the tenant requires, then 'activate' it. 'history' lists
versions, 'activations' who activated which version when.`,
	}
	cmd.AddCommand(newPolicyLintCmd(), newPolicyPushCmd(), newPolicyApproveCmd(), newPolicyActivateCmd(), newPolicyCandidateCmd(),
		newPolicyActivationsCmd(), newPolicyHistoryCmd(), newPolicyShowCmd(), newPolicyTestCmd(), newPolicyDiffCmd(),
		newPolicyReplayCmd(), newPolicyShadowReportCmd())
	return cmd
}

// readDoc reads a policy document from a file or "-" (stdin).
func readDoc(path string, stdin io.Reader) ([]byte, error) {
	var r io.Reader = stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, &exitError{exitUsage, err}
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, policy.MaxDocumentSize+1))
	if err != nil {
		return nil, &exitError{exitUsage, err}
	}
	return b, nil
}

func newPolicyLintCmd() *cobra.Command {
	var strict bool
	cmd := &cobra.Command{
		Use:   "lint FILE",
		Short: "Check a policy file offline: syntax, globs, CEL conditions, limits",
		Long: `Parse and compile a policy file (YAML or JSON, '-' for standard input) exactly as
the server would, and print every error with its line and column. A valid policy
may still get warnings ("FILE:LINE:COL: warning: [code] rule "id": message"):
never-applies, duplicate, shadowed, unconditioned-destructive-allow. Exit
status: 0 valid, 1 invalid (or, with --strict, warned about), 2 unreadable.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := readDoc(args[0], cmd.InOrStdin())
			if err != nil {
				return err
			}
			p, err := policy.ParseAndCompile(doc)
			if err != nil {
				var es policy.Errors
				var e *policy.Error
				switch {
				case errors.As(err, &es):
					for _, e := range es {
						fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", args[0], e.Error())
					}
				case errors.As(err, &e):
					fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", args[0], e.Error())
				default:
					fmt.Fprintf(cmd.OutOrStdout(), "%s: %v\n", args[0], err)
				}
				return &exitError{exitIntegrity, fmt.Errorf("%s is not a valid policy", args[0])}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: policy %q is valid (%d rules, digest %s)\n", args[0], p.Name, len(p.Doc.Rules), p.Digest)
			warnings, err := policy.Lint(doc)
			if err != nil {
				return &exitError{exitIntegrity, fmt.Errorf("lint %s: %w", args[0], err)}
			}
			for _, w := range warnings {
				fmt.Fprintf(cmd.OutOrStdout(), "%s:%d:%d: warning: [%s] rule %q: %s\n", args[0], w.Line, w.Column, w.Code, w.Rule, w.Message)
			}
			if strict && len(warnings) > 0 {
				return &exitError{exitIntegrity, fmt.Errorf("%s: %d warnings (--strict)", args[0], len(warnings))}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&strict, "strict", false, "exit 1 when there are warnings")
	return cmd
}

func newPolicyPushCmd() *cobra.Command {
	var r remote
	var activate bool
	cmd := &cobra.Command{
		Use:   "push FILE",
		Short: "Push a policy file as a new version (identical content returns the existing one)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := readDoc(args[0], cmd.InOrStdin())
			if err != nil {
				return err
			}
			if _, err := policy.ParseAndCompile(doc); err != nil {
				return &exitError{exitUsage, fmt.Errorf("%s: %w", args[0], err)}
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			ctype := "application/yaml"
			if ext := strings.ToLower(filepath.Ext(args[0])); ext == ".json" {
				ctype = "application/json"
			}
			name, version, created, err := c.PushPolicy(cmd.Context(), doc, ctype)
			if err != nil {
				return err
			}
			what := "created"
			if !created {
				what = "unchanged: identical to"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s version %d\n", what, name, version)
			if activate {
				if err := c.ActivatePolicy(cmd.Context(), name, version); err != nil {
					return activateRefused(err, name, version)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "activated %s version %d\n", name, version)
			}
			return nil
		},
	}
	r.bind(cmd, "tenant to push to (owner keys)")
	cmd.Flags().BoolVar(&activate, "activate", false, "activate the version after pushing it")
	return cmd
}

func parseVersionArgs(args []string) (string, int64, error) {
	n, err := strconv.ParseInt(args[1], 10, 64)
	if err != nil || n < 1 {
		return "", 0, &exitError{exitUsage, fmt.Errorf("version %q must be a positive integer", args[1])}
	}
	return args[0], n, nil
}

func newPolicyActivateCmd() *cobra.Command {
	var r remote
	cmd := &cobra.Command{
		Use:   "activate NAME VERSION",
		Short: "Make a pushed version the tenant's active policy",
		Long: `Make a pushed policy version the tenant's active policy: it decides every
request from now on. The server refuses (409) a version that keys other than
its author have not approved as many times as the tenant's policy_approvals
setting requires ('warden policy approve'). Exit status: 0 activated, 1 refused
(not approved enough, or the key may not activate), 2 usage, connection or
other server errors.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, n, err := parseVersionArgs(args)
			if err != nil {
				return err
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			if err := c.ActivatePolicy(cmd.Context(), name, n); err != nil {
				return activateRefused(err, name, n)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "activated %s version %d\n", name, n)
			return nil
		},
	}
	r.bind(cmd, "tenant (owner keys)")
	return cmd
}

func newPolicyHistoryCmd() *cobra.Command {
	var r remote
	cmd := &cobra.Command{
		Use:   "history [NAME]",
		Short: "List policy versions (the active one is marked)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			vs, err := c.PolicyVersions(cmd.Context(), name)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVERSION\tACTIVE\tCREATED\tAUTHOR\tDIGEST")
			for _, v := range vs {
				active := ""
				if v.Active {
					active = "*"
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", v.Name, v.Version, active, v.CreatedAt.Format("2006-01-02 15:04:05Z07:00"), v.Author, v.Digest[:12])
			}
			return tw.Flush()
		},
	}
	r.bind(cmd, "tenant (owner keys)")
	return cmd
}

func newPolicyShowCmd() *cobra.Command {
	var r remote
	cmd := &cobra.Command{
		Use:   "show [NAME VERSION]",
		Short: "Print a policy version's source (default: the active policy)",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 0 && len(args) != 2 {
				return errors.New("give no arguments (the active policy) or NAME VERSION")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			name, n := "", int64(0)
			if len(args) == 2 {
				if name, n, err = parseVersionArgs(args); err != nil {
					return err
				}
			}
			v, err := c.PolicyVersion(cmd.Context(), name, n)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "# %s version %d, digest %s, by %s\n", v.Name, v.Version, v.Digest, v.Author)
			_, err = io.WriteString(cmd.OutOrStdout(), v.Source)
			return err
		},
	}
	r.bind(cmd, "tenant (owner keys)")
	return cmd
}

func newEvaluateCmd() *cobra.Command {
	var r remote
	var file, principal, principalType, action, resource, args, session, environment, authorization string
	cmd := &cobra.Command{
		Use:   "evaluate (--file REQUEST.json | --principal ID --action TYPE [--args JSON]) [--authorization TOKEN]",
		Short: "Ask the server for one decision and print the answer",
		Long: `Ask for one decision (POST /v1/evaluate) and print the answer as JSON. The
request comes from --file (the JSON body of the API, '-' for standard input) or
from flags. Exit status: 0 when the answer is allow, 1 when it is anything else,
2 on usage or connection errors.

A require_approval answer carries the id of the approval request it opened
("approval_id"). Once it is approved, the agent's key reads the single-use
authorization with 'warden approvals show ID' and asks again for exactly the
same request with --authorization TOKEN: that request is allowed once (unless a
kill switch or the current policy denies it). When the tenant has a candidate
policy, the answer's "shadow" field says what the candidate would decide.`,
		Example: `  warden evaluate --principal billing-7 --action pay.send --args '{"amount": 5000}'
  warden evaluate --principal billing-7 --action pay.send --args '{"amount": 5000}' --authorization "$TOKEN"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var body []byte
			if file != "" {
				b, err := readDoc(file, cmd.InOrStdin())
				if err != nil {
					return err
				}
				body = b
			} else {
				if principal == "" || action == "" {
					return &exitError{exitUsage, errors.New("give --file, or --principal and --action")}
				}
				req := map[string]any{
					"principal": map[string]any{"id": principal, "type": principalType},
					"action":    map[string]any{"type": action, "resource": resource},
					"args":      json.RawMessage(args),
					"context":   map[string]any{"session_id": session, "environment": environment},
				}
				b, err := json.Marshal(req)
				if err != nil {
					return &exitError{exitUsage, fmt.Errorf("--args is not JSON: %w", err)}
				}
				body = b
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			ans, err := c.EvaluateWith(cmd.Context(), body, authorization)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			if err := enc.Encode(ans); err != nil {
				return err
			}
			if ans.Decision == policy.RequireApproval && ans.ApprovalID != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "Approval %s is open. Once approved, 'warden approvals show %s' gives this key the authorization to ask again with --authorization.\n",
					ans.ApprovalID, ans.ApprovalID)
			}
			if ans.Shadow != nil && ans.Shadow.Decision != ans.Decision {
				fmt.Fprintf(cmd.ErrOrStderr(), "The candidate policy would decide %s.\n", ans.Shadow.Decision)
			}
			if ans.Decision != policy.Allow {
				return &exitError{exitIntegrity, fmt.Errorf("decision: %s", ans.Decision)}
			}
			return nil
		},
	}
	r.bind(cmd, "tenant (owner keys)")
	f := cmd.Flags()
	f.StringVar(&file, "file", "", "request JSON file ('-' for standard input)")
	f.StringVar(&principal, "principal", "", "principal id")
	f.StringVar(&principalType, "principal-type", "agent", "agent, user or service")
	f.StringVar(&action, "action", "", "action type, e.g. stripe.charges.create")
	f.StringVar(&resource, "resource", "", "resource")
	f.StringVar(&args, "args", "{}", "arguments as a JSON object")
	f.StringVar(&session, "session", "", "session id")
	f.StringVar(&environment, "environment", "", "environment")
	f.StringVar(&authorization, "authorization", "", "the single-use authorization of an approved request ('warden approvals show')")
	return cmd
}
