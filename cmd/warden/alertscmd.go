package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/wardenhq/warden/client"
	"github.com/wardenhq/warden/internal/api"
)

func newAlertsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "List, show, acknowledge and resolve the monitor's alerts",
		Long: `Work with the alerts the monitor raises (operator, admin or owner keys; auditor
keys read; owner keys name a tenant with --tenant).

The monitor keeps a baseline of every agent's activity (decisions, denies,
spend, latency, scan findings...) and raises an alert when a metric leaves it,
when a threshold rule of the tenant fires, or when the tenant's log fails
re-verification. An alert is open until an operator acknowledges it (someone is
on it) and then resolves it with a comment that says why it is dealt with; an
open alert may be resolved directly. Every one of these steps is an entry in
the tenant's log. 'warden incidents' gathers alerts and receipts into an
incident.`,
	}
	cmd.AddCommand(newAlertsListCmd(), newAlertsShowCmd(), newAlertsChangeCmd(false), newAlertsChangeCmd(true))
	return cmd
}

var (
	alertStatuses = []string{client.AlertOpen, client.AlertAcknowledged, client.AlertResolved}
	severities    = []string{client.SeverityInfo, client.SeverityWarning, client.SeverityCritical}
)

// oneOf checks an optional enumerated flag.
func oneOf(flag, v string, allowed []string) error {
	if v != "" && !slices.Contains(allowed, v) {
		return &exitError{exitUsage, fmt.Errorf("--%s %q must be one of %s", flag, v, strings.Join(allowed, ", "))}
	}
	return nil
}

// parseWhen reads a time flag: an RFC 3339 time, or a positive duration
// before now (24h: a day ago). Empty is the zero time.
func parseWhen(flag, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return time.Time{}, &exitError{exitUsage, fmt.Errorf("--%s %q is neither an RFC 3339 time (2025-01-31T00:00:00Z) nor a positive duration before now (24h)", flag, s)}
	}
	return now.Add(-d).UTC(), nil
}

// timeRange reads --from and --to.
func timeRange(from, to string, now time.Time) (time.Time, time.Time, error) {
	f, err := parseWhen("from", from, now)
	if err != nil {
		return f, f, err
	}
	t, err := parseWhen("to", to, now)
	if err != nil {
		return f, t, err
	}
	if !f.IsZero() && !t.IsZero() && !f.Before(t) {
		return f, t, &exitError{exitUsage, fmt.Errorf("--from %s must be before --to %s", from, to)}
	}
	return f, t, nil
}

// pageFlags are the paging flags of a listing.
type pageFlags struct {
	limit  int
	cursor string
	all    bool
}

func (p *pageFlags) bind(cmd *cobra.Command, what string) {
	f := cmd.Flags()
	f.IntVar(&p.limit, "limit", 0, fmt.Sprintf("at most this many %s per page (default %d)", what, api.DefaultAlertLimit))
	f.StringVar(&p.cursor, "cursor", "", "continue a listing where the page before it ended (its next_cursor)")
	f.BoolVar(&p.all, "all", false, "follow the cursors and list every page")
}

func (p *pageFlags) check() error {
	if p.limit < 0 || p.limit > api.MaxAlertLimit {
		return &exitError{exitUsage, fmt.Errorf("--limit %d must be from 1 to %d", p.limit, api.MaxAlertLimit)}
	}
	return nil
}

// follow calls page with cursor after cursor until the last page (or
// after the first, without --all), and returns the items and the cursor
// of the next page ("" when there is none or every page was read).
func follow[T any](p *pageFlags, what string, page func(cursor string) ([]T, string, error)) ([]T, string, error) {
	out := []T{}
	for cursor := p.cursor; ; {
		items, next, err := page(cursor)
		if err != nil {
			return nil, "", err
		}
		out = append(out, items...)
		if next == "" || !p.all {
			return out, next, nil
		}
		if next == cursor {
			return nil, "", fmt.Errorf("list %s: the server repeated cursor %q", what, cursor)
		}
		cursor = next
	}
}

// moreNote tells, on standard error, how to read the page after this one.
func moreNote(w io.Writer, what, next string) {
	if next != "" {
		fmt.Fprintf(w, "more %s: --cursor %s for the next page, or --all for every one\n", what, next)
	}
}

// notFound turns a 404 into exit status 1 with unknown as the message, and
// other refusals as refused does.
func notFound(err error, unknown, forbidden, conflict, hint string) error {
	if isStatus(err, http.StatusNotFound) {
		return &exitError{exitIntegrity, errors.New(unknown)}
	}
	return refused(err, forbidden, conflict, hint)
}

func unknownAlert(id string) string {
	return fmt.Sprintf("alert %s not found: this tenant has no such alert (see 'warden alerts list')", id)
}

func fmtNum(v float64) string { return fmt.Sprintf("%.4g", v) }

func newAlertsListCmd() *cobra.Command {
	var (
		r        remote
		q        client.AlertQuery
		from, to string
		page     pageFlags
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "list [--status S] [--severity S] [--agent ID] [--metric M] [--from T] [--to T] [--limit N] [--cursor C | --all]",
		Short: "List alerts, newest first",
		Long: `List the tenant's alerts, newest first: id, status, severity, the end of the
bucket that raised it, agent ("-": the tenant's log itself), metric, direction,
detector (and rule), the value observed, what the baseline expected, and the
incident it is linked to.

--status (open, acknowledged, resolved), --severity (info, warning, critical),
--agent (a principal id) and --metric (decisions, denies, spend, ...) keep the
alerts that match every one given; --from and --to bound the alert's time to
[from, to), each an RFC 3339 time or a duration before now (24h). One page is
listed (--limit, default 100); a note on standard error gives the cursor of the
next, which --cursor takes; --all follows the cursors to the end. With --json
the page is printed as the API answers it ({"alerts", "next_cursor"}).

Exit status: 0 listed (none included), 1 refused (this key may not read
alerts), 2 usage, connection or other server errors.`,
		Example: `  warden alerts list --status open
  warden alerts list --agent billing-bot --from 24h --all --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := oneOf("status", q.Status, alertStatuses); err != nil {
				return err
			}
			if err := oneOf("severity", q.Severity, severities); err != nil {
				return err
			}
			if err := page.check(); err != nil {
				return err
			}
			var err error
			if q.From, q.To, err = timeRange(from, to, time.Now()); err != nil {
				return err
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			q.Limit = page.limit
			as, next, err := follow(&page, "alerts", func(cursor string) ([]client.Alert, string, error) {
				q.Cursor = cursor
				p, err := c.Alerts(cmd.Context(), q)
				if err != nil {
					return nil, "", err
				}
				return p.Alerts, p.NextCursor, nil
			})
			if err != nil {
				return refused(err, "this key may not read alerts", "", "")
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), client.AlertPage{Alerts: as, NextCursor: next})
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATUS\tSEVERITY\tTIME\tAGENT\tMETRIC\tDIRECTION\tDETECTOR\tOBSERVED\tBASELINE\tINCIDENT")
			for i := range as {
				a := &as[i]
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Status, a.Severity, fmtTime(&a.Time), orDash(a.Agent),
					a.Metric, orDash(a.Direction), detectorText(a), fmtNum(a.Observed), fmtNum(a.Baseline), orDash(a.Incident))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			moreNote(cmd.ErrOrStderr(), "alerts", next)
			return nil
		},
	}
	r.bind(cmd, "tenant (owner keys)")
	f := cmd.Flags()
	f.StringVar(&q.Status, "status", "", "only alerts of this status: "+strings.Join(alertStatuses, ", "))
	f.StringVar(&q.Severity, "severity", "", "only alerts of this severity: "+strings.Join(severities, ", "))
	f.StringVar(&q.Agent, "agent", "", "only alerts of this agent (principal id)")
	f.StringVar(&q.Metric, "metric", "", "only alerts of this metric (decisions, denies, spend, ...)")
	f.StringVar(&from, "from", "", "only alerts at or after this time: RFC 3339 or a duration before now (24h)")
	f.StringVar(&to, "to", "", "only alerts before this time: RFC 3339 or a duration before now")
	page.bind(cmd, "alerts")
	f.BoolVar(&asJSON, "json", false, "print the alerts as JSON")
	return cmd
}

// detectorText is the detector, with the rule that fired for a threshold.
func detectorText(a *client.Alert) string {
	if a.Rule != "" {
		return a.Detector + " (" + a.Rule + ")"
	}
	return a.Detector
}

func newAlertsShowCmd() *cobra.Command {
	var (
		r      remote
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one alert: what the monitor saw and what was done about it",
		Long: `Show one alert: the metric, the value observed and what the baseline expected,
the score (the CUSUM in standard deviations, or a rule's exposure), who
acknowledged and resolved it and why, the incident it is linked to, and the
alert routes that matched it and the kill switches they set.

Exit status: 0 shown, 1 refused (this key may not read alerts) or not found
(the tenant has no such alert), 2 usage, connection or other server errors.`,
		Example: `  warden alerts show alr_2xq...`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			a, err := c.Alert(cmd.Context(), args[0])
			if err != nil {
				return notFound(err, unknownAlert(args[0]), "this key may not read alerts", "", "")
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), a)
			}
			return printAlert(cmd.OutOrStdout(), a)
		},
	}
	r.bind(cmd, "tenant (owner keys)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the alert as JSON")
	return cmd
}

// byAt is "KEY at TIME", or "-" when nobody did it.
func byAt(by string, at *time.Time) string {
	if by == "" {
		return "-"
	}
	return by + " at " + fmtTime(at)
}

func printAlert(w io.Writer, a *client.Alert) error {
	agent := a.Agent
	if agent == "" {
		agent = "- (the tenant's log)"
	}
	rows := [][2]string{
		{"id", a.ID}, {"status", a.Status}, {"severity", a.Severity},
		{"time", fmtTime(&a.Time)}, {"raised", fmtTime(&a.Raised) + fmt.Sprintf(" (entry %d)", a.Seq)},
		{"agent", agent}, {"metric", a.Metric}, {"direction", orDash(a.Direction)}, {"detector", detectorText(a)},
		{"observed", fmtNum(a.Observed)}, {"baseline", fmtNum(a.Baseline)}, {"score", fmtNum(a.Score)},
	}
	if a.Message != "" {
		rows = append(rows, [2]string{"message", a.Message})
	}
	rows = append(rows,
		[2]string{"acknowledged", byAt(a.AckedBy, a.AckedAt)}, [2]string{"resolved", byAt(a.ResolvedBy, a.ResolvedAt)},
		[2]string{"resolution", orDash(a.Resolution)}, [2]string{"incident", orDash(a.Incident)},
		[2]string{"routes", orDash(strings.Join(a.Routes, ", "))}, [2]string{"kill switches", orDash(strings.Join(a.Controls, ", "))})
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	for _, kv := range rows {
		fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
	}
	return tw.Flush()
}

func newAlertsChangeCmd(resolve bool) *cobra.Command {
	var (
		r       remote
		comment string
		asJSON  bool
	)
	verb, use, short, long, done := "acknowledge", "ack ID [--comment TEXT]", "Acknowledge an open alert: someone is on it",
		`Acknowledge an open alert: it says someone is on it, and by which key. --comment
is recorded with it.`, "acknowledged"
	if resolve {
		verb, use, short, long, done = "resolve", "resolve ID --comment TEXT", "Resolve an alert, saying why it is dealt with",
			`Resolve an open or acknowledged alert. --comment (required) says why it is dealt
with; the receivers that were told of the alert are told it is resolved.`, "resolved"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long: long + ` The comment is recorded in the tenant's log for good (up to 2000 bytes): never
put a secret in it.

Exit status: 0 ` + done + `, 1 refused (this key may not change alerts), not found
(the tenant has no such alert) or conflict (the alert is ` + conflictState(resolve) + `),
2 usage, connection or other server errors.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if resolve && strings.TrimSpace(comment) == "" {
				return &exitError{exitUsage, errors.New("--comment is required: say why the alert is dealt with")}
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			change := c.AckAlert
			if resolve {
				change = c.ResolveAlert
			}
			id := args[0]
			a, err := change(cmd.Context(), id, comment)
			if err != nil {
				return notFound(err, unknownAlert(id), "this key may not "+verb+" alerts",
					fmt.Sprintf("alert %s cannot be %s", id, done), "see 'warden alerts show "+id+"'")
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), a)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s alert %s (%s %s of %s)\n", done, a.ID, a.Severity, a.Metric, orDash(a.Agent))
			return nil
		},
	}
	r.bind(cmd, "tenant (owner keys)")
	help := "a comment recorded with the acknowledgement"
	if resolve {
		help = "why the alert is dealt with (required)"
	}
	cmd.Flags().StringVar(&comment, "comment", "", help)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the alert as JSON")
	return cmd
}

func conflictState(resolve bool) string {
	if resolve {
		return "resolved already"
	}
	return "acknowledged or resolved already"
}
