package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/scan"
	"github.com/wardenhq/warden/internal/scan/detect"
)

func newScanCmd() *cobra.Command {
	var (
		provenance, region string
		asJSON, asText     bool
	)
	cmd := &cobra.Command{
		Use:   "scan FILE|-",
		Short: "Run the content scanners on a file offline and list the findings",
		Long: `Scan a file (or standard input with '-') with the detectors the server uses:
secrets, personal data, prompt injection and jailbreaks, unsafe input,
exfiltration and tool poisoning. A file that is one JSON value is scanned as
JSON (every string and key, findings carry JSON Pointer paths), anything else
as text; --text forces text. Findings print as

  PATH START-END CATEGORY RULE SEVERITY CONFIDENCE

with byte offsets into the decoded string, never the value itself.
Exit status: 0 no findings, 1 findings (or an incomplete scan), 2 unreadable
input or bad flags.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			prov, ok := map[string]scan.Provenance{"argument": scan.Argument, "output": scan.Output, "tool_description": scan.ToolDescription}[provenance]
			if !ok {
				return &exitError{exitUsage, fmt.Errorf("--provenance must be argument, output or tool_description")}
			}
			data, err := readScanInput(args[0], cmd.InOrStdin())
			if err != nil {
				return err
			}
			s, err := newScanner(region)
			if err != nil {
				return err
			}
			var res scan.Result
			if v, err := policy.DecodeValue(data, "input"); err == nil && !asText && json.Valid(data) {
				res = s.ScanValue(context.Background(), v, "", prov)
			} else {
				res = s.ScanText(context.Background(), string(data), "", prov)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if res.Findings == nil {
					res.Findings = []scan.Finding{}
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(res); err != nil {
					return err
				}
			} else {
				for _, f := range res.Findings {
					path := f.Path
					if path == "" {
						path = "-"
					}
					if f.InKey {
						path += " (key)"
					}
					fmt.Fprintf(out, "%s %d-%d %s %s %s %.2f\n", path, f.Start, f.End, f.Category, f.Rule, f.Severity, f.Confidence)
				}
				switch {
				case res.Incomplete:
					fmt.Fprintf(out, "incomplete scan: %s\n", res.Why)
				case len(res.Findings) == 0:
					fmt.Fprintln(out, "no findings")
				}
			}
			if len(res.Findings) > 0 || res.Incomplete {
				return &exitError{exitIntegrity, fmt.Errorf("%d findings (complete: %v)", len(res.Findings), !res.Incomplete)}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&provenance, "provenance", "argument", "where the content comes from: argument, output or tool_description")
	f.StringVar(&region, "phone-region", detect.DefaultPhoneRegion, "region of phone numbers written without a country code")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	f.BoolVar(&asText, "text", false, "scan as text even if the input is JSON")
	return cmd
}

// readScanInput reads a scan's input within the scanner's size limit.
func readScanInput(path string, stdin io.Reader) ([]byte, error) {
	var r io.Reader = stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, &exitError{exitUsage, err}
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, scan.DefaultMaxBytes+1))
	if err != nil {
		return nil, &exitError{exitUsage, err}
	}
	if len(b) > scan.DefaultMaxBytes {
		return nil, &exitError{exitUsage, fmt.Errorf("%s is larger than the scan limit of %d bytes", strings.TrimSpace(path), scan.DefaultMaxBytes)}
	}
	return b, nil
}
