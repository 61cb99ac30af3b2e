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
)

// An approval's authorization is a credential: like a new key's secret it
// goes to standard output alone on its line, so that a script can pick it
// out, with what it is said on standard error.

func newApprovalsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "approvals",
		Short: "List, show, approve and reject approval requests",
		Long: `Work with the approval requests that require_approval decisions open.

An agent whose request was answered require_approval gets an approval id. An
eligible approver (an approver, admin or owner key, named by the rule's groups
or keys if it names any, and neither the key that asked nor one bound to the
principal that asked) approves or rejects it; as many approvals as the rule
asks approve it, and any rejection rejects it. The agent's key then reads the
request with 'warden approvals show ID' and gets a single-use authorization,
which it presents with 'warden evaluate --authorization' to have that exact
request allowed once.

Approver keys see every request of the tenant; an agent key sees its
principals' only.`,
	}
	cmd.AddCommand(newApprovalsListCmd(), newApprovalsShowCmd(), newApprovalsVoteCmd(true), newApprovalsVoteCmd(false))
	return cmd
}

var approvalStatuses = []string{client.ApprovalPending, client.ApprovalApproved, client.ApprovalRejected, client.ApprovalExpired, client.ApprovalFailed}

func newApprovalsListCmd() *cobra.Command {
	var (
		r      remote
		status string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list [--status STATUS]",
		Short: "List approval requests",
		Long: `List the tenant's approval requests in id order (oldest first): id, status,
principal, action, the rule that asked for approval ("-": the tenant's default),
approving votes of the number needed, and expiry. --status keeps one status:
pending, approved, rejected, expired or failed (approved, but the current policy
would now deny the request).`,
		Example: `  warden approvals list --status pending`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if status != "" && !slices.Contains(approvalStatuses, status) {
				return &exitError{exitUsage, fmt.Errorf("--status %q must be one of %s", status, strings.Join(approvalStatuses, ", "))}
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			as := []client.Approval{}
			for cursor := ""; ; {
				p, err := c.Approvals(cmd.Context(), status, cursor, 0)
				if err != nil {
					return err
				}
				as = append(as, p.Approvals...)
				if p.NextCursor == "" {
					break
				}
				if p.NextCursor == cursor {
					return fmt.Errorf("list approvals: the server repeated cursor %q", cursor)
				}
				cursor = p.NextCursor
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), struct {
					Approvals []client.Approval `json:"approvals"`
				}{as})
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATUS\tPRINCIPAL\tACTION\tRULE\tVOTES\tEXPIRES")
			for i := range as {
				a := &as[i]
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\n", a.ID, a.Status, a.Principal, a.Action, orDash(a.Rule), a.Approvals(), a.Count, fmtTime(&a.ExpiresAt))
			}
			return tw.Flush()
		},
	}
	r.bind(cmd, "tenant (owner keys)")
	cmd.Flags().StringVar(&status, "status", "", "only requests of this status: "+strings.Join(approvalStatuses, ", "))
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the requests as JSON")
	return cmd
}

func newApprovalsShowCmd() *cobra.Command {
	var (
		r      remote
		wait   time.Duration
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "show ID [--wait DURATION]",
		Short: "Show one approval request with its votes (and, for its agent, the authorization)",
		Long: `Show one approval request: what was asked, by which key, who may approve it,
its votes and what became of it. With --wait (up to 60s) the server answers as
soon as the request is no longer pending, or when the wait is over.

When the key is an agent key bound to the principal that asked and the request
is approved, the server also gives the authorization: a single-use token that
allows exactly the request approved once, with 'warden evaluate --authorization'.
It is printed last, alone on its line of standard output (a note goes to
standard error), so that a script can take it with grep '^wat_'. With --json it
is the "authorization" field. Treat it as a credential.`,
		Example: `  warden approvals show apr_01hx... --wait 60s
  TOKEN=$(warden approvals show apr_01hx... --wait 60s | grep '^wat_')`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if wait < 0 || wait > client.MaxApprovalWait {
				return &exitError{exitUsage, fmt.Errorf("--wait %s must be from 0 to %s", wait, client.MaxApprovalWait)}
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			a, err := c.GetApproval(cmd.Context(), args[0], wait)
			if err != nil {
				return err
			}
			if a.Authorization != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "The authorization of approval %s is %s. It is single-use: it allows exactly the request approved, once.\n",
					a.ID, authorizationWhere(asJSON))
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), a)
			}
			if err := printApproval(cmd.OutOrStdout(), a); err != nil {
				return err
			}
			if a.Authorization != "" {
				fmt.Fprintln(cmd.OutOrStdout(), a.Authorization)
			}
			return nil
		},
	}
	r.bind(cmd, "tenant (owner keys)")
	cmd.Flags().DurationVar(&wait, "wait", 0, "wait up to this long (at most 60s) while the request is pending")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the request as JSON")
	return cmd
}

func authorizationWhere(asJSON bool) string {
	if asJSON {
		return `in the "authorization" field`
	}
	return "the last line of standard output"
}

func printApproval(w io.Writer, a *client.Approval) error {
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	approvers := "any approver"
	if len(a.Groups) > 0 || len(a.Keys) > 0 {
		var who []string
		if len(a.Groups) > 0 {
			who = append(who, "groups "+strings.Join(a.Groups, ", "))
		}
		if len(a.Keys) > 0 {
			who = append(who, "keys "+strings.Join(a.Keys, ", "))
		}
		approvers = strings.Join(who, "; ")
	}
	rule := a.Rule
	if rule == "" {
		rule = "- (the tenant's default approval)"
	}
	rows := [][2]string{
		{"id", a.ID}, {"status", a.Status}, {"reason", orDash(a.Reason)},
		{"principal", a.Principal}, {"action", a.Action}, {"rule", rule},
		{"request digest", a.RequestDigest}, {"receipt", a.ReceiptID}, {"requested by", a.RequestedBy},
		{"approvers", approvers}, {"approvals", fmt.Sprintf("%d of %d", a.Approvals(), a.Count)},
		{"created", fmtTime(&a.CreatedAt)}, {"expires", fmtTime(&a.ExpiresAt)}, {"resolved", fmtTime(a.ResolvedAt)},
		{"used by receipt", orDash(a.UsedByReceipt)},
	}
	for _, kv := range rows {
		fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
	}
	if len(a.Votes) == 0 {
		fmt.Fprintln(tw, "votes:\tnone")
	} else {
		fmt.Fprintln(tw, "votes:")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, v := range a.Votes {
		verdict := "reject"
		if v.Approve {
			verdict = "approve"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", verdict, v.KeyID, fmtTime(&v.At), v.Comment)
	}
	return tw.Flush()
}

func newApprovalsVoteCmd(approve bool) *cobra.Command {
	var (
		r       remote
		comment string
		asJSON  bool
	)
	verb, short, long := "approve", "Approve an approval request", `Approve an approval request as an eligible approver. The request is approved
once as many eligible keys as it needs have approved it; the tenant's current
policy then checks it again, and it fails if that policy would now deny it.`
	if !approve {
		verb, short, long = "reject", "Reject an approval request", `Reject an approval request as an eligible approver. One rejection rejects it.`
	}
	cmd := &cobra.Command{
		Use:   verb + " ID [--comment TEXT]",
		Short: short,
		Long: long + `

Eligible: an approver, admin or owner key, named by the request's groups or
keys if it names any, neither the key that asked nor one bound to the principal
that asked. The request as it stands after the vote is printed. Exit status: 0
voted, 1 refused (this key may not vote on the request, or the request is no
longer open or has its vote already), 2 usage, connection or other server
errors.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			vote := c.Reject
			if approve {
				vote = c.Approve
			}
			a, err := vote(cmd.Context(), args[0], comment)
			if err != nil {
				return refused(err,
					fmt.Sprintf("this key may not vote on approval %s", args[0]),
					fmt.Sprintf("approval %s takes no vote from this key: it is no longer open, or the key voted already", args[0]), "")
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), a)
			}
			state := a.Status
			if a.Reason != "" {
				state += " (" + a.Reason + ")"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "voted %s on %s (%s, %s): %d of %d approvals; status %s\n", verb, a.ID, a.Principal, a.Action, a.Approvals(), a.Count, state)
			return nil
		},
	}
	r.bind(cmd, "tenant (owner keys)")
	cmd.Flags().StringVar(&comment, "comment", "", "a comment recorded with the vote")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the request after the vote as JSON")
	return cmd
}

// refused turns the server's refusal of a workflow step into exit status
// 1 with a message that says what was refused: forbidden for a 403 (the
// key may not take the step), conflict for a 409 (the state does not allow
// it), followed by the server's reason and, for a 409, what to do (hint,
// if not empty). Other errors stay as they are.
func refused(err error, forbidden, conflict, hint string) error {
	var ce *client.Error
	if !errors.As(err, &ce) {
		return err
	}
	var msg string
	switch ce.Status {
	case http.StatusForbidden:
		msg = forbidden
	case http.StatusConflict:
		msg = conflict
	default:
		return err
	}
	why := ce.Detail
	if why == "" {
		why = ce.Title
	}
	msg = fmt.Sprintf("%s (%d): %s", msg, ce.Status, why)
	if ce.RequestID != "" {
		msg += " (request " + ce.RequestID + ")"
	}
	if hint != "" && ce.Status == http.StatusConflict {
		msg += "; " + hint
	}
	return &exitError{exitIntegrity, errors.New(msg)}
}
