package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/wardenhq/warden/internal/monitor"
)

func newMonitorCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "monitor",
		Short: "Run the monitor's detectors offline",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newMonitorReplayCmd())
	return cmd
}

func newMonitorReplayCmd() *cobra.Command {
	var trace string
	cmd := &cobra.Command{
		Use:   "replay --trace FILE",
		Short: "Run the monitor's detectors over a recorded or synthetic trace",
		Long: `Run the monitor's detectors, with their default configuration, over a trace
of decisions, without a server: the clock is the trace's, so a day of traffic
replays in seconds and gives the alerts it gave (or would have given) live.

The trace is JSON Lines, one observation per line, in time order:

  {"time":"2025-01-06T09:30:00.25Z","tenant":"acme","agent":"billing-bot",
   "action":"payments.send","decision":"allow","findings":["pii.email"],
   "spend":0.0042,"outcome":"succeeded","latency_ms":182.5}

  time        RFC 3339 (required)
  tenant      tenant id (required)
  agent       agent (principal) id (required)
  action      action type (required with a decision)
  decision    allow, deny, require_approval or rate_limited
  findings    categories of the scan findings, one per finding
  spend       what the action cost, >= 0
  outcome     succeeded or failed, when the action's outcome is known
  latency_ms  the outcome's duration in milliseconds, >= 0

A line with an outcome and no decision is an outcome alone. Unknown fields,
trailing data and lines over 64 KiB are errors. Observations older than the
open bucket are counted in it. At the end of the trace the last bucket is
closed.

Each alert prints as one JSON line:

  {"time":"2025-01-06T09:42:00Z","tenant":"acme","agent":"billing-bot",
   "metric":"decisions","direction":"up","severity":"critical",
   "detector":"cusum_fast","observed":41,"baseline":7.9,"score":3.6}

  time       end of the one-minute bucket that raised the alert
  metric     decisions, denies, approvals_required, rate_limited,
             outcome_failures, distinct_actions, new_actions, spend, latency,
             findings.<family> (secret, pii, injection, jailbreak,
             unsafe_input, exfiltration, tool_poisoning, other)
  direction  up or down
  severity   info (a drop), warning, critical (a large rise); a rule's own
  detector   cusum (small shifts), cusum_fast (large shifts) or threshold
             (then "rule" names it)
  observed   the metric in that bucket: a count; a fraction of the decisions
             or outcomes; the geometric mean of spend or of latency in ms
  baseline   what the baseline expected, in the same unit; for a rule, its
             threshold
  score      the CUSUM in standard deviations, or the rule's exposure

An alert stands for a whole episode: the same agent, metric, direction and
detector family do not alert again until the condition has ended.
docs/monitor.md describes the detectors. A summary goes to standard error.

Exit status: 0 when the trace was read to the end (with or without alerts),
2 for a bad flag, an unreadable file or an invalid line.`,
		Example: `  warden monitor replay --trace decisions.jsonl
  go run ./bench/monitor gen -out /tmp/t.jsonl && warden monitor replay --trace /tmp/t.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if trace == "" {
				return &exitError{exitUsage, errors.New("--trace FILE is required ('-' for standard input)")}
			}
			in := cmd.InOrStdin()
			if trace != "-" {
				f, err := os.Open(trace)
				if err != nil {
					return &exitError{exitUsage, err}
				}
				defer f.Close()
				in = f
			}
			return replayTrace(in, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&trace, "trace", "", "trace file, JSON Lines ('-' for standard input)")
	return cmd
}

// replayTrace runs a monitor with the default configuration over the
// trace in r and writes its alerts to w as JSON Lines.
func replayTrace(r io.Reader, w, summary io.Writer) error {
	m, err := monitor.New(monitor.DefaultConfig())
	if err != nil {
		return err
	}
	out := bufio.NewWriter(w)
	enc := json.NewEncoder(out)
	alerts := 0
	emit := func(as []monitor.Alert) error {
		for i := range as {
			if err := enc.Encode(&as[i]); err != nil {
				return err
			}
		}
		alerts += len(as)
		return nil
	}
	tr := monitor.NewTraceReader(r)
	var latest time.Time
	for {
		o, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			out.Flush()
			return &exitError{exitUsage, fmt.Errorf("trace: %w", err)}
		}
		as, err := m.Observe(&o)
		if err != nil {
			out.Flush()
			return &exitError{exitUsage, fmt.Errorf("trace line %d: %w", tr.Line(), err)}
		}
		if err := emit(as); err != nil {
			return err
		}
		if o.Time.After(latest) {
			latest = o.Time
		}
	}
	if !latest.IsZero() {
		// Close the last bucket: the trace ends with it.
		bucket := m.Config().Bucket
		if err := emit(m.Advance(latest.Truncate(bucket).Add(bucket))); err != nil {
			return err
		}
	}
	if err := out.Flush(); err != nil {
		return err
	}
	st := m.Stats()
	fmt.Fprintf(summary, "monitor: %d observations of %d agents (%d late), %d alerts\n", st.Observations, st.Agents, st.Late, alerts)
	return nil
}
