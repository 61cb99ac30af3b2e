package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/wardenhq/warden/client"
)

// The secret of a key is printed once, by the command that creates it, to
// standard output alone, so that `KEY=$(warden keys create ...)` captures
// it and nothing else does; every other command shows keys without it.

const shownOnce = "It is shown only once and cannot be recovered: store it now."

func newKeysCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Create, list, change and revoke API keys",
		Long: `Manage the API keys of a tenant (admin keys; owner keys name a tenant with
--tenant). Every key has one role: admin, policy_author, approver, operator,
auditor or agent. An agent key is bound to the principal ids or globs it speaks
for. A key never gets a role above its creator's, and every change is an entry
in the tenant's log.`,
	}
	cmd.AddCommand(newKeysCreateCmd(), newKeysListCmd(), newKeysShowCmd(), newKeysUpdateCmd(), newKeysRevokeCmd())
	return cmd
}

func newKeysCreateCmd() *cobra.Command {
	var (
		r                   remote
		role, name, expires string
		groups, bindings    []string
		asJSON              bool
	)
	cmd := &cobra.Command{
		Use:   "create --role ROLE --name NAME [--group G]... [--bind PRINCIPAL]... [--expires WHEN]",
		Short: "Create a key and print its secret, once",
		Long: `Create an API key. The key (wdn_<id>_<secret>) is printed to standard output,
alone on its line; what it is goes to standard error. The server keeps only a
hash of it: it is shown this once and cannot be recovered.

Roles: admin, policy_author, approver, operator, auditor, agent. An agent key
needs at least one --bind (a principal id or glob such as 'billing-*'); other
roles take none. --expires is an RFC 3339 time or a duration from now (720h).
With --json the answer of the API is printed instead, secret included.`,
		Example: `  warden keys create --role agent --name "billing bot" --bind 'billing-*' --expires 720h
  warden keys create --role auditor --name "Q3 audit" --group external`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			spec := client.KeySpec{Role: role, Name: name, Groups: groups, Bindings: bindings}
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
			k, err := c.CreateKey(cmd.Context(), spec)
			if err != nil {
				return err
			}
			if asJSON {
				fmt.Fprintln(cmd.ErrOrStderr(), "The key is in the \"key\" field. "+shownOnce)
				return printJSON(cmd.OutOrStdout(), k)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Created %s key %s %q in tenant %s%s.\n", k.Role, k.ID, k.Name, k.Tenant, keyTerms(&k.Key))
			fmt.Fprintln(cmd.ErrOrStderr(), "The key follows. "+shownOnce)
			fmt.Fprintln(cmd.OutOrStdout(), k.Secret)
			return nil
		},
	}
	r.bind(cmd, "tenant to create the key in (owner keys)")
	f := cmd.Flags()
	f.StringVar(&role, "role", "", "role: admin, policy_author, approver, operator, auditor or agent")
	f.StringVar(&name, "name", "", "what the key is for, shown in listings and the access review")
	f.StringArrayVar(&groups, "group", nil, "a group label (repeat for several)")
	f.StringArrayVar(&bindings, "bind", nil, "for agent keys: a principal id or glob the key speaks for (repeat for several)")
	f.StringVar(&expires, "expires", "", "expiry: an RFC 3339 time or a duration from now such as 720h (default: never)")
	f.BoolVar(&asJSON, "json", false, "print the API's answer as JSON (secret included)")
	_ = cmd.MarkFlagRequired("role")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

// keyTerms describes a key's bindings, groups and expiry for one line.
func keyTerms(k *client.Key) string {
	var parts []string
	if len(k.Bindings) > 0 {
		parts = append(parts, "bound to "+strings.Join(k.Bindings, ", "))
	}
	if len(k.Groups) > 0 {
		parts = append(parts, "groups "+strings.Join(k.Groups, ", "))
	}
	if k.ExpiresAt != nil {
		parts = append(parts, "expires "+fmtTime(k.ExpiresAt))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

func newKeysListCmd() *cobra.Command {
	var (
		r      remote
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List every key of the tenant, revoked ones included",
		Long: `List every key of the tenant in id order, revoked and expired ones included:
id, role, name, groups, bindings, creation, expiry, last use and status. Last
use is recorded at most once a minute. Secrets are never shown.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			keys := []client.Key{}
			for cursor := ""; ; {
				p, err := c.Keys(cmd.Context(), cursor, 0)
				if err != nil {
					return err
				}
				keys = append(keys, p.Keys...)
				if p.NextCursor == "" {
					break
				}
				if p.NextCursor == cursor {
					return fmt.Errorf("list keys: the server repeated cursor %q", cursor)
				}
				cursor = p.NextCursor
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), struct {
					Keys []client.Key `json:"keys"`
				}{keys})
			}
			now := time.Now()
			rows := make([][]string, len(keys))
			for i := range keys {
				k := &keys[i]
				rows[i] = keyRow(k.ID, k.Role, k.Name, k.Groups, k.Bindings, &k.CreatedAt, k.ExpiresAt, k.LastUsedAt, k.Status(now))
			}
			return printKeyTable(cmd.OutOrStdout(), rows)
		},
	}
	r.bind(cmd, "tenant whose keys to list (owner keys)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the keys as JSON")
	return cmd
}

func keyRow(id, role, name string, groups, bindings []string, created, expires, lastUsed *time.Time, status string) []string {
	return []string{id, role, name, orDash(strings.Join(groups, ",")), orDash(strings.Join(bindings, ",")),
		fmtTime(created), orNever(expires), orNever(lastUsed), status}
}

func printKeyTable(w io.Writer, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROLE\tNAME\tGROUPS\tBINDINGS\tCREATED\tEXPIRES\tLAST USED\tSTATUS")
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func newKeysShowCmd() *cobra.Command {
	var (
		r      remote
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one key (never its secret)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			k, err := c.GetKey(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printKey(cmd.OutOrStdout(), k, asJSON)
		},
	}
	r.bind(cmd, "tenant of the key (owner keys)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the key as JSON")
	return cmd
}

func printKey(w io.Writer, k *client.Key, asJSON bool) error {
	if asJSON {
		return printJSON(w, k)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	revoked := "-"
	if k.RevokedAt != nil {
		revoked = fmtTime(k.RevokedAt)
	}
	for _, kv := range [][2]string{
		{"id", k.ID}, {"tenant", k.Tenant}, {"role", k.Role}, {"name", k.Name},
		{"groups", orDash(strings.Join(k.Groups, ", "))}, {"bindings", orDash(strings.Join(k.Bindings, ", "))},
		{"created", fmtTime(&k.CreatedAt)}, {"expires", orNever(k.ExpiresAt)}, {"revoked", revoked},
		{"last used", orNever(k.LastUsedAt)}, {"status", k.Status(time.Now())},
	} {
		fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
	}
	return tw.Flush()
}

func newKeysUpdateCmd() *cobra.Command {
	var (
		r                   remote
		role, name, expires string
		groups, bindings    []string
		noExpiry, asJSON    bool
	)
	cmd := &cobra.Command{
		Use:   "update ID [--role ROLE] [--name NAME] [--group G]... [--bind PRINCIPAL]... [--expires WHEN | --no-expiry]",
		Short: "Change a key's role, name, groups, bindings or expiry",
		Long: `Change a key; what is not given stays as it is. --group and --bind replace the
whole list (repeat them for several; --group '' or --bind '' empties it). An
agent key given another role loses its bindings. --expires is an RFC 3339 time
or a duration from now (720h); --no-expiry removes the expiry. A revoked key
cannot be changed. The key as changed is printed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			var u client.KeyUpdate
			if f.Changed("role") {
				u.Role = &role
			}
			if f.Changed("name") {
				u.Name = &name
			}
			if f.Changed("group") {
				g := nonEmpty(groups)
				u.Groups = &g
			}
			if f.Changed("bind") {
				b := nonEmpty(bindings)
				u.Bindings = &b
			}
			if f.Changed("expires") {
				t, err := parseExpiry(expires, time.Now())
				if err != nil {
					return err
				}
				u.ExpiresAt = &t
			}
			u.ClearExpiry = noExpiry
			if u == (client.KeyUpdate{}) {
				return &exitError{exitUsage, errors.New("nothing to change: give --role, --name, --group, --bind, --expires or --no-expiry")}
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			k, err := c.UpdateKey(cmd.Context(), args[0], u)
			if err != nil {
				return err
			}
			return printKey(cmd.OutOrStdout(), k, asJSON)
		},
	}
	r.bind(cmd, "tenant of the key (owner keys)")
	fl := cmd.Flags()
	fl.StringVar(&role, "role", "", "new role: admin, policy_author, approver, operator, auditor or agent")
	fl.StringVar(&name, "name", "", "new name")
	fl.StringArrayVar(&groups, "group", nil, "the key's groups, replacing the old ones (repeat for several)")
	fl.StringArrayVar(&bindings, "bind", nil, "the agent key's principal ids or globs, replacing the old ones (repeat for several)")
	fl.StringVar(&expires, "expires", "", "new expiry: an RFC 3339 time or a duration from now such as 720h")
	fl.BoolVar(&noExpiry, "no-expiry", false, "remove the expiry")
	fl.BoolVar(&asJSON, "json", false, "print the key as JSON")
	cmd.MarkFlagsMutuallyExclusive("expires", "no-expiry")
	return cmd
}

func newKeysRevokeCmd() *cobra.Command {
	var (
		r      remote
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a key: it stops working at its next request",
		Long: `Revoke a key. It is refused from its next request on, stays in listings and the
access review as revoked, and cannot be changed or restored.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			k, err := c.RevokeKey(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), k)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked %s key %s %q at %s\n", k.Role, k.ID, k.Name, fmtTime(k.RevokedAt))
			return nil
		},
	}
	r.bind(cmd, "tenant of the key (owner keys)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the revoked key as JSON")
	return cmd
}

// parseExpiry reads an expiry: an RFC 3339 time, or a positive duration
// from now.
func parseExpiry(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return time.Time{}, &exitError{exitUsage, fmt.Errorf("--expires %q is neither an RFC 3339 time (2030-01-02T15:04:05Z) nor a positive duration (720h)", s)}
	}
	return now.Add(d).UTC().Truncate(time.Second), nil
}

// nonEmpty drops empty strings, so that --group ” empties the list.
func nonEmpty(xs []string) []string {
	out := []string{}
	for _, x := range xs {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z07:00")
}

func orNever(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return fmtTime(t)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
