package main

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/wardenhq/warden/client"
)

func newControlsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "controls",
		Short: "Set, list and clear kill switches",
		Long: `Work with the tenant's kill switches (operator, admin or owner keys; owner keys
name a tenant with --tenant).

A kill switch stops (deny) or holds (require_approval) every request it
matches, whatever the policy says; a deny switch wins over an approval's
authorization too. Its scope is an agent (id or glob), an action glob and a
session id: every one given must match, and a switch with none applies to the
whole tenant. A switch binds the very next decision on every replica, and every
change is an entry in the tenant's log.`,
	}
	cmd.AddCommand(newControlsSetCmd(), newControlsListCmd(), newControlsClearCmd())
	return cmd
}

var controlEffects = []string{client.ControlDeny, client.ControlRequireApproval}

func newControlsSetCmd() *cobra.Command {
	var (
		r                        remote
		spec                     client.ControlSpec
		expires                  string
		asJSON                   bool
		agent, action, sessionID string
	)
	cmd := &cobra.Command{
		Use:   "set [--agent GLOB] [--action GLOB] [--session ID] --effect deny|require_approval --reason TEXT [--expires WHEN]",
		Short: "Set a kill switch: it binds the next decision on every replica",
		Long: `Set a kill switch. --effect deny denies every request the switch matches;
--effect require_approval makes every one the policy does not deny need
approval. --reason (1 to 500 bytes) is what a refused agent is told, in the
answer's reason. The scope is --agent (a principal id or glob such as
'billing-*'), --action (an action glob such as 'stripe.*') and --session (a
session id): every one given must match, and without any the switch applies to
every request of the tenant. --expires is an RFC 3339 time or a duration from
now (2h); without it the switch stays until cleared.

The switch is printed with its id, which 'warden controls clear' takes. Exit
status: 0 set, 1 refused (this key may not set kill switches), 2 usage,
connection or other server errors (a malformed switch included).`,
		Example: `  warden controls set --agent 'billing-*' --effect deny --reason "incident 42: refunds paused"
  warden controls set --action 'stripe.*' --effect require_approval --reason "spend review" --expires 2h`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if spec.Effect != client.ControlDeny && spec.Effect != client.ControlRequireApproval {
				return &exitError{exitUsage, fmt.Errorf("--effect %q must be one of %s", spec.Effect, strings.Join(controlEffects, ", "))}
			}
			if spec.Reason == "" {
				return &exitError{exitUsage, errors.New("--reason must not be empty: it is what a refused agent is told")}
			}
			spec.Scope = client.ControlScope{Agent: agent, Action: action, Session: sessionID}
			if expires != "" {
				t, err := parseExpiry(expires, time.Now())
				if err != nil {
					return err
				}
				spec.ExpiresAt = &t
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			ctl, err := c.SetControl(cmd.Context(), spec)
			if err != nil {
				return refused(err, "this key may not set kill switches", "", "")
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), ctl)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "set control %s: %s %s (%q), expires %s; it binds the next decision on every replica\n",
				ctl.ID, ctl.Effect, scopeText(ctl.Scope), ctl.Reason, orNever(ctl.ExpiresAt))
			return nil
		},
	}
	r.bind(cmd, "tenant (owner keys)")
	f := cmd.Flags()
	f.StringVar(&agent, "agent", "", "the agents it applies to: a principal id or glob (default: every agent)")
	f.StringVar(&action, "action", "", "the actions it applies to: an action type or glob (default: every action)")
	f.StringVar(&sessionID, "session", "", "the session it applies to: a session id (default: every session)")
	f.StringVar(&spec.Effect, "effect", "", "deny or require_approval")
	f.StringVar(&spec.Reason, "reason", "", "why, 1 to 500 bytes: what a refused agent is told")
	f.StringVar(&expires, "expires", "", "expiry: an RFC 3339 time or a duration from now such as 2h (default: until cleared)")
	f.BoolVar(&asJSON, "json", false, "print the switch as JSON")
	_ = cmd.MarkFlagRequired("effect")
	_ = cmd.MarkFlagRequired("reason")
	return cmd
}

// scopeText describes a switch's scope for one line.
func scopeText(s client.ControlScope) string {
	var parts []string
	for _, kv := range [][2]string{{"agent", s.Agent}, {"action", s.Action}, {"session", s.Session}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+" "+kv[1])
		}
	}
	if len(parts) == 0 {
		return "the whole tenant"
	}
	return strings.Join(parts, " and ")
}

func newControlsListCmd() *cobra.Command {
	var (
		r      remote
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the kill switches in force",
		Long: `List the tenant's kill switches in force, in id order: id, effect, scope
(agent, action and session; "*": any), expiry, when and by which key it was
set, and its reason. Cleared and expired switches are not listed; the log keeps
every change. Exit status: 0 listed, 1 refused (this key may not read kill
switches), 2 usage, connection or other server errors.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			cs, err := c.Controls(cmd.Context())
			if err != nil {
				return refused(err, "this key may not read kill switches", "", "")
			}
			if cs == nil {
				cs = []client.Control{}
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), struct {
					Controls []client.Control `json:"controls"`
				}{cs})
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tEFFECT\tAGENT\tACTION\tSESSION\tEXPIRES\tCREATED\tBY\tREASON")
			for i := range cs {
				ctl := &cs[i]
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ctl.ID, ctl.Effect, orAny(ctl.Scope.Agent), orAny(ctl.Scope.Action),
					orAny(ctl.Scope.Session), orNever(ctl.ExpiresAt), fmtTime(&ctl.CreatedAt), ctl.CreatedBy, ctl.Reason)
			}
			return tw.Flush()
		},
	}
	r.bind(cmd, "tenant (owner keys)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the switches as JSON")
	return cmd
}

func orAny(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

func newControlsClearCmd() *cobra.Command {
	var r remote
	cmd := &cobra.Command{
		Use:   "clear ID",
		Short: "Clear a kill switch: the next decision no longer sees it",
		Long: `Clear a kill switch by its id (see 'warden controls list'). It stops binding
from the next decision on, on every replica; the log keeps it and its clearing.
Exit status: 0 cleared, 1 refused (this key may not clear kill switches, or no
switch with that id is in force), 2 usage, connection or other server errors.`,
		Example: `  warden controls clear ctl_01hx...`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			id := args[0]
			if err := c.ClearControl(cmd.Context(), id); err != nil {
				if isStatus(err, http.StatusNotFound) {
					return &exitError{exitIntegrity, fmt.Errorf("no kill switch %s is in force: it is unknown or cleared already (see 'warden controls list')", id)}
				}
				return refused(err, "this key may not clear kill switches", "", "")
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cleared control %s\n", id)
			return nil
		},
	}
	r.bind(cmd, "tenant (owner keys)")
	return cmd
}
