package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/wardenhq/warden/client"
	"github.com/wardenhq/warden/internal/monitor"
)

func newMonitorCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "monitor",
		Short: "Read what the monitor sees, or run its detectors offline",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newMonitorReplayCmd(), newMonitorAgentsCmd(), newMonitorSeriesCmd())
	return cmd
}

func newMonitorAgentsCmd() *cobra.Command {
	var (
		r      remote
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "agents",
		Short: "List the agents the monitor keeps series for",
		Long: `List the agents (principal ids) the running monitor keeps series for, by id:
the first and the latest one-minute bucket it keeps of each, and how many
buckets (a bucket is kept only when the agent was active in it, and for as long
as the tenant's retention allows). 'warden monitor series AGENT' shows one.
Operator, admin and auditor keys read it; owner keys name a tenant with
--tenant.

Exit status: 0 listed (none included), 1 refused (this key may not read the
monitor), 2 usage, connection or other server errors.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			as, _, err := follow(&pageFlags{all: true}, "monitored agents", func(cursor string) ([]client.MonitorAgent, string, error) {
				p, err := c.MonitorAgents(cmd.Context(), cursor, 0)
				if err != nil {
					return nil, "", err
				}
				return p.Agents, p.NextCursor, nil
			})
			if err != nil {
				return refused(err, "this key may not read the monitor", "", "")
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), client.MonitorAgentPage{Agents: as})
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "AGENT\tFIRST BUCKET\tLAST BUCKET\tBUCKETS")
			for i := range as {
				a := &as[i]
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", a.Agent, fmtTime(&a.FirstBucket), fmtTime(&a.LastBucket), a.Buckets)
			}
			return tw.Flush()
		},
	}
	r.bind(cmd, "tenant (owner keys)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the agents as JSON")
	return cmd
}

func metricNames() []string {
	var names []string
	for _, m := range monitor.Metrics() {
		names = append(names, m.String())
	}
	return names
}

func newMonitorSeriesCmd() *cobra.Command {
	var (
		r                remote
		metric, from, to string
		asJSON           bool
	)
	cmd := &cobra.Command{
		Use:   "series AGENT [--metric M] [--from T] [--to T]",
		Short: "Show an agent's series of one metric, with its baseline and alerts",
		Long: `Show what the running monitor saw of one agent (a principal id) for one metric:
for each one-minute bucket in which the agent was active, the value observed,
and once the baseline has warmed up, what it expected, the band around it
(low, high) and the CUSUMs up and down in standard deviations ("-" during the
warm-up); then the agent's alerts of that metric in the range.

--metric is decisions (the default), denies, approvals_required, rate_limited,
outcome_failures, distinct_actions, new_actions, spend, latency or
findings.<family> (secret, pii, injection, jailbreak, unsafe_input,
exfiltration, tool_poisoning, other). --from and --to bound the buckets to
[from, to), each an RFC 3339 time or a duration before now (24h); by default
the six hours before now, and at most a week. With --json the series is printed
as the API answers it. Operator, admin and auditor keys read it; owner keys
name a tenant with --tenant.

Exit status: 0 shown (no bucket in the range included), 1 refused (this key may
not read the monitor) or not found (the monitor keeps no series of the agent),
2 usage, connection or other server errors.`,
		Example: `  warden monitor series billing-bot --metric denies --from 24h
  warden monitor series billing-bot --from 2025-01-06T09:00:00Z --to 2025-01-06T10:00:00Z --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if metric != "" {
				if _, err := monitor.ParseMetric(metric); err != nil {
					return &exitError{exitUsage, fmt.Errorf("--metric %q must be one of %s", metric, strings.Join(metricNames(), ", "))}
				}
			}
			f, t, err := timeRange(from, to, time.Now())
			if err != nil {
				return err
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			agent := args[0]
			s, err := c.AgentSeries(cmd.Context(), agent, client.SeriesQuery{Metric: metric, From: f, To: t})
			if err != nil {
				return notFound(err, fmt.Sprintf("agent %q not found: the monitor keeps no series of it in this tenant (see 'warden monitor agents')", agent),
					"this key may not read the monitor", "", "")
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), s)
			}
			return printSeries(cmd.OutOrStdout(), s)
		},
	}
	r.bind(cmd, "tenant (owner keys)")
	f := cmd.Flags()
	f.StringVar(&metric, "metric", "", "the metric (default decisions)")
	f.StringVar(&from, "from", "", "start of the range, inclusive: RFC 3339 or a duration before now (default: six hours before --to)")
	f.StringVar(&to, "to", "", "end of the range, exclusive: RFC 3339 or a duration before now (default: now)")
	f.BoolVar(&asJSON, "json", false, "print the series as JSON")
	return cmd
}

func printSeries(w io.Writer, s *client.Series) error {
	fmt.Fprintf(w, "agent %s, metric %s, %s to %s: %s, %s\n", s.Agent, s.Metric, fmtTime(&s.From), fmtTime(&s.To),
		plural(len(s.Points), "bucket"), plural(len(s.Alerts), "alert"))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BUCKET\tOBSERVED\tBASELINE\tLOW\tHIGH\tCUSUM UP\tCUSUM DOWN")
	for i := range s.Points {
		p := &s.Points[i]
		cols := []string{"-", "-", "-", "-", "-"}
		if p.Scored {
			cols = []string{fmtNum(p.Baseline), fmtNum(p.Low), fmtNum(p.High), fmtNum(p.CUSUMUp), fmtNum(p.CUSUMDown)}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", fmtTime(&p.Bucket), fmtNum(p.Observed), strings.Join(cols, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(s.Alerts) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nalerts:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  ID\tSTATUS\tSEVERITY\tTIME\tDIRECTION\tDETECTOR\tOBSERVED\tBASELINE\tSCORE")
	for i := range s.Alerts {
		a := &s.Alerts[i]
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Status, a.Severity, fmtTime(&a.Time), orDash(a.Direction),
			detectorText(a), fmtNum(a.Observed), fmtNum(a.Baseline), fmtNum(a.Score))
	}
	return tw.Flush()
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
