package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/wardenhq/warden/client"
)

func newIncidentsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "incidents",
		Short: "Open, list, show, note, link and resolve incidents",
		Long: `Work with the tenant's incidents (operator, admin or owner keys; auditor keys
read; owner keys name a tenant with --tenant).

An incident is an operator's record of something that went wrong: opened by
hand, with a title and a severity, it gathers the alerts and the receipts
(decisions) it concerns and notes of what was done, until it is resolved with
its resolution. Every step (incident.opened, incident.noted, incident.linked,
incident.resolved) is an entry in the tenant's log, so the record is as
tamper-evident as the decisions it points to. What is written into an incident
is recorded for good: never put a secret in it.`,
	}
	cmd.AddCommand(newIncidentsOpenCmd(), newIncidentsListCmd(), newIncidentsShowCmd(), newIncidentsNoteCmd(),
		newIncidentsLinkCmd(), newIncidentsResolveCmd())
	return cmd
}

var incidentStatuses = []string{client.IncidentOpen, client.IncidentResolved}

func unknownIncident(id string) string {
	return fmt.Sprintf("incident %s not found: this tenant has no such incident (see 'warden incidents list')", id)
}

// changeIncident is how note, link and resolve report a failure.
func changeIncident(err error, id, verb string) error {
	return notFound(err, unknownIncident(id), "this key may not change incidents",
		fmt.Sprintf("incident %s cannot be %s", id, verb), "a resolved incident takes no more changes (see 'warden incidents show "+id+"')")
}

func newIncidentsOpenCmd() *cobra.Command {
	var (
		r      remote
		spec   client.IncidentSpec
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "open --title TEXT [--severity info|warning|critical] [--alert ID]... [--receipt ID]...",
		Short: "Open an incident, linked to alerts and receipts",
		Long: `Open an incident. --title (1 to 200 bytes) says what went wrong; --severity is
info, warning (the default) or critical; --alert and --receipt (each
repeatable) link alerts and receipts of the tenant to it from the start ('warden
incidents link' adds more later). An alert linked to an incident names it.

The incident is printed with its id, which the other incidents commands take.
Exit status: 0 opened, 1 refused (this key may not open incidents), 2 usage,
connection or other server errors (an alert or receipt the tenant does not have
included).`,
		Example: `  warden incidents open --title "refunds over the cap" --severity critical --alert alr_2xq... --receipt rcpt_01hx...`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(spec.Title) == "" {
				return &exitError{exitUsage, errors.New("--title is required: say what went wrong")}
			}
			if err := oneOf("severity", spec.Severity, severities); err != nil {
				return err
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			inc, err := c.OpenIncident(cmd.Context(), spec)
			if err != nil {
				return refused(err, "this key may not open incidents", "", "")
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), inc)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "opened incident %s (%s): %s; %s\n", inc.ID, inc.Severity, inc.Title, linksText(inc))
			return nil
		},
	}
	r.bind(cmd, "tenant (owner keys)")
	f := cmd.Flags()
	f.StringVar(&spec.Title, "title", "", "what went wrong, 1 to 200 bytes (required)")
	f.StringVar(&spec.Severity, "severity", "", "info, warning or critical (default warning)")
	f.StringArrayVar(&spec.Alerts, "alert", nil, "link this alert (repeatable)")
	f.StringArrayVar(&spec.Receipts, "receipt", nil, "link this receipt (repeatable)")
	f.BoolVar(&asJSON, "json", false, "print the incident as JSON")
	return cmd
}

// linksText counts an incident's links for one line.
func linksText(inc *client.Incident) string {
	return fmt.Sprintf("%s, %s, %s", plural(len(inc.Alerts), "alert"), plural(len(inc.Receipts), "receipt"), plural(len(inc.Notes), "note"))
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func newIncidentsListCmd() *cobra.Command {
	var (
		r      remote
		q      client.IncidentQuery
		page   pageFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list [--status open|resolved] [--limit N] [--cursor C | --all]",
		Short: "List incidents, newest first",
		Long: `List the tenant's incidents, newest first: id, status, severity, when and by
which key it was opened, how many alerts, receipts and notes it has, and its
title. --status keeps the open or the resolved ones. One page is listed
(--limit, default 100); a note on standard error gives the cursor of the next,
which --cursor takes; --all follows the cursors to the end. With --json the
page is printed as the API answers it ({"incidents", "next_cursor"}).

Exit status: 0 listed (none included), 1 refused (this key may not read
incidents), 2 usage, connection or other server errors.`,
		Example: `  warden incidents list --status open`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := oneOf("status", q.Status, incidentStatuses); err != nil {
				return err
			}
			if err := page.check(); err != nil {
				return err
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			q.Limit = page.limit
			is, next, err := follow(&page, "incidents", func(cursor string) ([]client.Incident, string, error) {
				q.Cursor = cursor
				p, err := c.Incidents(cmd.Context(), q)
				if err != nil {
					return nil, "", err
				}
				return p.Incidents, p.NextCursor, nil
			})
			if err != nil {
				return refused(err, "this key may not read incidents", "", "")
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), client.IncidentPage{Incidents: is, NextCursor: next})
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATUS\tSEVERITY\tOPENED\tBY\tALERTS\tRECEIPTS\tNOTES\tTITLE")
			for i := range is {
				inc := &is[i]
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", inc.ID, inc.Status, inc.Severity, fmtTime(&inc.Opened), inc.OpenedBy,
					len(inc.Alerts), len(inc.Receipts), len(inc.Notes), inc.Title)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			moreNote(cmd.ErrOrStderr(), "incidents", next)
			return nil
		},
	}
	r.bind(cmd, "tenant (owner keys)")
	cmd.Flags().StringVar(&q.Status, "status", "", "only incidents of this status: open or resolved")
	page.bind(cmd, "incidents")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the incidents as JSON")
	return cmd
}

func newIncidentsShowCmd() *cobra.Command {
	var (
		r      remote
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one incident with its alerts, receipts and notes",
		Long: `Show one incident: its title, severity and status, who opened and resolved it
and how, the alerts and receipts linked to it ('warden alerts show' reads an
alert), and its notes in order, each with the key that wrote it.

Exit status: 0 shown, 1 refused (this key may not read incidents) or not found
(the tenant has no such incident), 2 usage, connection or other server errors.`,
		Example: `  warden incidents show inc_01hx...`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			inc, err := c.Incident(cmd.Context(), args[0])
			if err != nil {
				return notFound(err, unknownIncident(args[0]), "this key may not read incidents", "", "")
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), inc)
			}
			return printIncident(cmd.OutOrStdout(), inc)
		},
	}
	r.bind(cmd, "tenant (owner keys)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the incident as JSON")
	return cmd
}

func printIncident(w io.Writer, inc *client.Incident) error {
	rows := [][2]string{
		{"id", inc.ID}, {"title", inc.Title}, {"severity", inc.Severity}, {"status", inc.Status},
		{"opened", byAt(inc.OpenedBy, &inc.Opened) + fmt.Sprintf(" (entry %d)", inc.Seq)}, {"updated", fmtTime(&inc.Updated)},
		{"resolved", byAt(inc.ResolvedBy, inc.ResolvedAt)}, {"resolution", orDash(inc.Resolution)},
		{"alerts", orDash(strings.Join(inc.Alerts, ", "))}, {"receipts", orDash(strings.Join(inc.Receipts, ", "))},
	}
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	for _, kv := range rows {
		fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
	}
	if len(inc.Notes) == 0 {
		fmt.Fprintln(tw, "notes:\tnone")
	} else {
		fmt.Fprintln(tw, "notes:")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, n := range inc.Notes {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", fmtTime(&n.At), n.By, n.Text)
	}
	return tw.Flush()
}

func newIncidentsNoteCmd() *cobra.Command {
	var (
		r      remote
		text   string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "note ID --text TEXT",
		Short: "Add a note to an open incident",
		Long: `Add a note to an open incident: what was found, what was done. --text (1 to
2000 bytes) is recorded in the tenant's log for good, with the key that wrote
it: never put a secret in it.

Exit status: 0 noted, 1 refused (this key may not change incidents), not found
(the tenant has no such incident) or conflict (the incident is resolved), 2
usage, connection or other server errors.`,
		Example: `  warden incidents note inc_01hx... --text "refunds paused with a kill switch"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(text) == "" {
				return &exitError{exitUsage, errors.New("--text is required")}
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			inc, err := c.NoteIncident(cmd.Context(), args[0], text)
			if err != nil {
				return changeIncident(err, args[0], "noted")
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), inc)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "noted incident %s; it has %s\n", inc.ID, linksText(inc))
			return nil
		},
	}
	r.bind(cmd, "tenant (owner keys)")
	cmd.Flags().StringVar(&text, "text", "", "the note, 1 to 2000 bytes (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the incident as JSON")
	return cmd
}

func newIncidentsLinkCmd() *cobra.Command {
	var (
		r                remote
		alerts, receipts []string
		asJSON           bool
	)
	cmd := &cobra.Command{
		Use:   "link ID [--alert ID]... [--receipt ID]...",
		Short: "Link alerts and receipts to an open incident",
		Long: `Link more alerts and receipts of the tenant to an open incident: --alert and
--receipt, each repeatable, at least one in all. One already linked is left as
it is. An alert linked to an incident names it.

Exit status: 0 linked, 1 refused (this key may not change incidents), not found
(the tenant has no such incident) or conflict (the incident is resolved), 2
usage, connection or other server errors (an alert or receipt the tenant does
not have included).`,
		Example: `  warden incidents link inc_01hx... --receipt rcpt_01hx... --alert alr_2xq...`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(alerts)+len(receipts) == 0 {
				return &exitError{exitUsage, errors.New("name at least one --alert or --receipt to link")}
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			inc, err := c.LinkIncident(cmd.Context(), args[0], alerts, receipts)
			if err != nil {
				return changeIncident(err, args[0], "linked")
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), inc)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "linked to incident %s; it has %s\n", inc.ID, linksText(inc))
			return nil
		},
	}
	r.bind(cmd, "tenant (owner keys)")
	cmd.Flags().StringArrayVar(&alerts, "alert", nil, "link this alert (repeatable)")
	cmd.Flags().StringArrayVar(&receipts, "receipt", nil, "link this receipt (repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the incident as JSON")
	return cmd
}

func newIncidentsResolveCmd() *cobra.Command {
	var (
		r          remote
		resolution string
		asJSON     bool
	)
	cmd := &cobra.Command{
		Use:   "resolve ID --resolution TEXT",
		Short: "Resolve an incident with its resolution",
		Long: `Resolve an open incident. --resolution (1 to 2000 bytes) says how it ended; it is
recorded in the tenant's log for good, with the key that resolved it: never put
a secret in it. A resolved incident takes no more notes, links or resolutions.
Resolving an incident changes none of its alerts: resolve them with 'warden
alerts resolve'.

Exit status: 0 resolved, 1 refused (this key may not change incidents), not
found (the tenant has no such incident) or conflict (the incident is resolved
already), 2 usage, connection or other server errors.`,
		Example: `  warden incidents resolve inc_01hx... --resolution "refund cap raised after review"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(resolution) == "" {
				return &exitError{exitUsage, errors.New("--resolution is required: say how the incident ended")}
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			inc, err := c.ResolveIncident(cmd.Context(), args[0], resolution)
			if err != nil {
				return changeIncident(err, args[0], "resolved")
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), inc)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "resolved incident %s: %s\n", inc.ID, inc.Resolution)
			return nil
		},
	}
	r.bind(cmd, "tenant (owner keys)")
	cmd.Flags().StringVar(&resolution, "resolution", "", "how the incident ended, 1 to 2000 bytes (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the incident as JSON")
	return cmd
}
