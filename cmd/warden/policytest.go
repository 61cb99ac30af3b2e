package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/wardenhq/warden/internal/policy"
)

func newPolicyTestCmd() *cobra.Command {
	var casesFile string
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "test FILE --cases CASES.yaml",
		Short: "Run a policy file against a file of test cases, offline",
		Long: `Evaluate every case of a case file against a policy file, offline, exactly as
the server would decide, and compare each decision with what the case expects
(decision, and optionally the rules that applied, in any order, and the code of
the deciding reason). Print one line per failing case, a summary, and the rules
that no case exercised. Either file may be '-' for standard input.

A case file looks like this:

  cases:
    - name: small charge is allowed
      request: {principal: {id: billing-bot, type: agent}, action: {type: stripe.charges.create}, args: {amount: 500}}
      findings: [{category: pii.email, severity: low}]   # optional, as if the scanner found them
      scan_incomplete: false                             # optional
      expect: {decision: allow, rules: [small-charges], code: rule}

Exit status: 0 every case passed, 1 a case failed or a file is invalid,
2 a file is unreadable.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPolicyTest(cmd, args[0], casesFile, jsonOut)
		},
	}
	cmd.Flags().StringVar(&casesFile, "cases", "", "case file (YAML)")
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print the report as JSON")
	_ = cmd.MarkFlagRequired("cases")
	return cmd
}

// policyTestReport is the --json form of a run.
type policyTestReport struct {
	File      string `json:"file"`
	CasesFile string `json:"cases_file"`
	*policy.CaseReport
}

// policyTestInvalid is the --json form of a file that is not valid.
type policyTestInvalid struct {
	File   string          `json:"file"`
	Errors []*policy.Error `json:"errors"`
}

func runPolicyTest(cmd *cobra.Command, file, casesFile string, jsonOut bool) error {
	if file == "-" && casesFile == "-" {
		return &exitError{exitUsage, errors.New("only one of the policy and the case file can be standard input")}
	}
	out := cmd.OutOrStdout()
	doc, err := readLimited(file, cmd.InOrStdin(), policy.MaxDocumentSize)
	if err != nil {
		return err
	}
	data, err := readLimited(casesFile, cmd.InOrStdin(), policy.MaxCaseFileSize)
	if err != nil {
		return err
	}
	p, err := policy.ParseAndCompile(doc)
	if err != nil {
		if perr := printInvalidFile(out, file, err, jsonOut); perr != nil {
			return perr
		}
		return &exitError{exitIntegrity, fmt.Errorf("%s is not a valid policy", file)}
	}
	cases, err := policy.ParseCases(data)
	if err != nil {
		if perr := printInvalidFile(out, casesFile, err, jsonOut); perr != nil {
			return perr
		}
		return &exitError{exitIntegrity, fmt.Errorf("%s is not a valid case file", casesFile)}
	}
	rep := policy.RunCases(p, cases)
	if jsonOut {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(policyTestReport{File: file, CasesFile: casesFile, CaseReport: rep}); err != nil {
			return err
		}
	} else if err := printCaseReport(out, casesFile, rep); err != nil {
		return err
	}
	if rep.Failed > 0 {
		return &exitError{exitIntegrity, fmt.Errorf("%d of %d cases failed", rep.Failed, len(rep.Results))}
	}
	return nil
}

// readLimited reads a file, or standard input for "-", up to one byte past
// limit so that the parser reports the size.
func readLimited(path string, stdin io.Reader, limit int64) ([]byte, error) {
	var r io.Reader = stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, &exitError{exitUsage, err}
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, &exitError{exitUsage, fmt.Errorf("read %s: %w", path, err)}
	}
	return b, nil
}

// printInvalidFile prints every problem of an invalid file, one a line
// ("FILE: line 3, column 5: path: message"), or as JSON.
func printInvalidFile(w io.Writer, file string, err error, jsonOut bool) error {
	var es policy.Errors
	var e *policy.Error
	switch {
	case errors.As(err, &es):
	case errors.As(err, &e):
		es = policy.Errors{e}
	default:
		es = policy.Errors{{Msg: err.Error()}}
	}
	if jsonOut {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(policyTestInvalid{File: file, Errors: es})
	}
	for _, e := range es {
		if _, err := fmt.Fprintf(w, "%s: %s\n", file, e.Error()); err != nil {
			return err
		}
	}
	return nil
}

// printCaseReport prints a line per failing case, the counts, and the
// rules that no case exercised.
func printCaseReport(w io.Writer, casesFile string, rep *policy.CaseReport) error {
	var b strings.Builder
	for _, r := range rep.Results {
		if r.Pass {
			continue
		}
		fmt.Fprintf(&b, "FAIL %s:%d %q: want %s, got %s", casesFile, r.Line, r.Name, r.Want, r.Got)
		if r.Error != "" {
			fmt.Fprintf(&b, " (evaluation error: %s)", r.Error)
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "%d passed, %d failed\n", rep.Passed, rep.Failed)
	unexercised := "none"
	if len(rep.Unexercised) > 0 {
		unexercised = strings.Join(rep.Unexercised, ", ")
	}
	fmt.Fprintf(&b, "rules no case exercised: %s\n", unexercised)
	_, err := io.WriteString(w, b.String())
	return err
}
