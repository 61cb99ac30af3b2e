package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/wardenhq/warden/internal/policy"
)

func newPolicyDiffCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "diff FROM TO",
		Short: "Compare two policy files: rules, settings and requests decided differently",
		Long: `Compare two policy files offline: the rules added, removed and changed (by id,
with each changed field before and after), the default, scan mapping, limits and
session rules, and example requests, derived from the rules, whose decision
changes from FROM to TO. --json prints the diff as the API serves it. Exit
status: 0 when the report is printed (identical or not), 1 when a file is not a
valid policy, 2 when a file cannot be read.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var srcs [2][]byte
			for i, file := range args {
				b, err := readDoc(file, cmd.InOrStdin())
				if err != nil {
					return err
				}
				srcs[i] = b
			}
			out := cmd.OutOrStdout()
			for i, file := range args {
				if _, err := policy.ParseAndCompile(srcs[i]); err != nil {
					printDiffInvalid(out, file, err)
					return &exitError{exitIntegrity, fmt.Errorf("%s is not a valid policy", file)}
				}
			}
			d, err := policy.Diff(srcs[0], srcs[1])
			if err != nil {
				return &exitError{exitIntegrity, fmt.Errorf("diff %s %s: %w", args[0], args[1], err)}
			}
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				return enc.Encode(d)
			}
			return printDiff(out, args[0], args[1], d)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the diff as JSON")
	return cmd
}

// printDiffInvalid prints each problem of an invalid file on a line.
func printDiffInvalid(w io.Writer, file string, err error) {
	var es policy.Errors
	var e *policy.Error
	switch {
	case errors.As(err, &es):
	case errors.As(err, &e):
		es = policy.Errors{e}
	default:
		es = policy.Errors{{Msg: err.Error()}}
	}
	for _, e := range es {
		fmt.Fprintf(w, "%s: %s\n", file, e.Error())
	}
}

// printDiff writes the readable report of a diff.
func printDiff(w io.Writer, fromFile, toFile string, d *policy.PolicyDiff) error {
	var b strings.Builder
	if d.Identical {
		fmt.Fprintf(&b, "%s and %s are identical: policy %q, digest %s\n", fromFile, toFile, d.From.Name, d.From.Digest)
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "from %s: policy %q, digest %s\n", fromFile, d.From.Name, d.From.Digest)
	fmt.Fprintf(&b, "to   %s: policy %q, digest %s\n", toFile, d.To.Name, d.To.Digest)
	if d.From.Name != d.To.Name {
		fmt.Fprintf(&b, "name: %q → %q\n", d.From.Name, d.To.Name)
	}
	rules := func(title, mark string, rs []policy.Rule) {
		if len(rs) == 0 {
			return
		}
		fmt.Fprintf(&b, "rules %s (%d):\n", title, len(rs))
		for _, r := range rs {
			fmt.Fprintf(&b, "  %s %s: %s\n", mark, r.ID, compactJSON(r))
		}
	}
	rules("added", "+", d.Added)
	rules("removed", "-", d.Removed)
	if len(d.Changed) > 0 {
		fmt.Fprintf(&b, "rules changed (%d):\n", len(d.Changed))
		for _, c := range d.Changed {
			fmt.Fprintf(&b, "  ~ %s\n", c.ID)
			for _, f := range c.Fields {
				fmt.Fprintf(&b, "      %s: %s → %s\n", f.Field, compactJSON(f.Before), compactJSON(f.After))
			}
		}
	}
	if d.Reordered {
		b.WriteString("rules kept in both are in another order\n")
	}
	var settings []policy.FieldChange
	if d.Default != nil {
		settings = append(settings, *d.Default)
	}
	settings = append(append(append(settings, d.Scan...), d.Limits...), d.Sessions...)
	for _, f := range settings {
		fmt.Fprintf(&b, "%s: %s → %s\n", f.Field, compactJSON(f.Before), compactJSON(f.After))
	}
	if len(d.Examples) == 0 {
		b.WriteString("no example request is decided differently\n")
	} else {
		fmt.Fprintf(&b, "requests decided differently (%d examples):\n", len(d.Examples))
		for _, ex := range d.Examples {
			fmt.Fprintf(&b, "  %s\n      from: %s  →  to: %s\n", compactJSON(ex.Request), outcomeText(ex.From), outcomeText(ex.To))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// outcomeText reads "deny [rule-a, rule-b]", with "(default)" or the
// error of a failed condition after it.
func outcomeText(o policy.DiffOutcome) string {
	s := o.Effect + " [" + strings.Join(o.Rules, ", ") + "]"
	switch {
	case o.Error != "":
		s += " (error: " + o.Error + ")"
	case o.Default:
		s += " (default)"
	}
	return s
}

// compactJSON is v as one line of JSON, with < > & as written.
func compactJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("%v", v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
