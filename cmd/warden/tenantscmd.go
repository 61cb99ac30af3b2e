package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/wardenhq/warden/client"
)

func newTenantsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tenants",
		Short: "Create, list and suspend tenants (owner keys)",
		Long: `Manage the installation's tenants. These commands need an owner key. Each
tenant has its own log, policies, keys and settings; an owner key acts on one
with --tenant in the other commands.`,
	}
	cmd.AddCommand(newTenantsCreateCmd(), newTenantsListCmd(), newTenantsSuspendCmd())
	return cmd
}

// bindOwner binds --url and --key: tenant routes act on the installation,
// so --tenant means nothing to them.
func (r *remote) bindOwner(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&r.url, "url", envOr("WARDEN_URL", client.DefaultURL), "server (env WARDEN_URL)")
	f.StringVar(&r.key, "key", os.Getenv("WARDEN_KEY"), "owner API key (env WARDEN_KEY)")
}

func newTenantsCreateCmd() *cobra.Command {
	var (
		r      remote
		name   string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "create ID --name NAME",
		Short: "Create a tenant and print its first admin key, once",
		Long: `Create a tenant with its first admin key. ID is lower case letters, digits and
'-'. The admin key is printed to standard output, alone on its line; the
tenant goes to standard error. It is shown this once and cannot be recovered.
With --json the answer of the API is printed instead, secret included.`,
		Example: `  warden tenants create acme --name "Acme Corp"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			t, err := c.CreateTenant(cmd.Context(), args[0], name)
			if err != nil {
				return err
			}
			if asJSON {
				fmt.Fprintln(cmd.ErrOrStderr(), "The admin key is in the \"admin_key.key\" field. "+shownOnce)
				return printJSON(cmd.OutOrStdout(), t)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Created tenant %s %q (%s).\n", t.Tenant.ID, t.Tenant.Name, t.Tenant.Status)
			fmt.Fprintf(cmd.ErrOrStderr(), "Its first admin key, %s, follows. %s\n", t.AdminKey.ID, shownOnce)
			fmt.Fprintln(cmd.OutOrStdout(), t.AdminKey.Secret)
			return nil
		},
	}
	r.bindOwner(cmd)
	cmd.Flags().StringVar(&name, "name", "", "the tenant's display name")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's answer as JSON (secret included)")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func newTenantsListCmd() *cobra.Command {
	var (
		r      remote
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List every tenant",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			tenants := []client.Tenant{}
			for cursor := ""; ; {
				p, err := c.Tenants(cmd.Context(), cursor, 0)
				if err != nil {
					return err
				}
				tenants = append(tenants, p.Tenants...)
				if p.NextCursor == "" {
					break
				}
				if p.NextCursor == cursor {
					return fmt.Errorf("list tenants: the server repeated cursor %q", cursor)
				}
				cursor = p.NextCursor
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), struct {
					Tenants []client.Tenant `json:"tenants"`
				}{tenants})
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tSTATUS\tCREATED\tRETENTION DAYS\tPOLICY APPROVALS")
			for _, t := range tenants {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\n", t.ID, t.Name, t.Status, fmtTime(&t.CreatedAt), t.Settings.RetentionDays, t.Settings.PolicyApprovals)
			}
			return tw.Flush()
		},
	}
	r.bindOwner(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the tenants as JSON")
	return cmd
}

func newTenantsSuspendCmd() *cobra.Command {
	var (
		r      remote
		reason string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "suspend ID [--reason TEXT]",
		Short: "Suspend a tenant: its keys stop working at their next request",
		Long: `Suspend a tenant. Its keys are refused from their next request on; its log
and data stay. The suspension and its reason are an entry in the tenant's log.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			t, err := c.SuspendTenant(cmd.Context(), args[0], reason)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), t)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "tenant %s %q is %s\n", t.ID, t.Name, t.Status)
			return nil
		},
	}
	r.bindOwner(cmd)
	cmd.Flags().StringVar(&reason, "reason", "", "why, recorded in the tenant's log")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the tenant as JSON")
	return cmd
}

func newAccessCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "access",
		Short: "Review who has access to a tenant",
	}
	cmd.AddCommand(newAccessReviewCmd())
	return cmd
}

func newAccessReviewCmd() *cobra.Command {
	var (
		r            remote
		comment      string
		sign, asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "review [--sign [--comment TEXT]]",
		Short: "Print the tenant's access review, and sign it off",
		Long: `Print the periodic access review of a tenant: every key with its role, groups,
bindings, creation, expiry, last use and status, and the review's digest (the
SHA-256 of the review without last use). Admin and auditor keys read it.

With --sign (admin keys) the review just printed is signed off and recorded in
the tenant's log as an access.review_signed entry. The digest printed is sent
with the sign-off: if any key changed in between, nothing is signed and the
exit status is 1; read the review again. Exit status: 0 printed (and signed),
1 the review changed before the sign-off, 2 usage, connection or server errors.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if comment != "" && !sign {
				return &exitError{exitUsage, errors.New("--comment goes with --sign")}
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			rv, err := c.AccessReview(cmd.Context())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if !asJSON {
				if err := printReview(out, rv); err != nil {
					return err
				}
			}
			if !sign {
				if asJSON {
					return printJSON(out, rv)
				}
				return nil
			}
			signed, err := c.SignAccessReview(cmd.Context(), rv.Digest, comment)
			var ce *client.Error
			if errors.As(err, &ce) && ce.Status == http.StatusConflict {
				return &exitError{exitIntegrity, fmt.Errorf("nothing was signed: the access review changed after it was read (%s); run 'warden access review' again and check it", ce.Detail)}
			}
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(out, signed)
			}
			fmt.Fprintf(out, "signed: entry %s (access.review_signed, seq %d) records the sign-off of digest %s\n", signed.EntryID, signed.Seq, signed.Review.Digest)
			return nil
		},
	}
	r.bind(cmd, "tenant to review (owner keys)")
	f := cmd.Flags()
	f.BoolVar(&sign, "sign", false, "sign off the review printed, recorded in the tenant's log")
	f.StringVar(&comment, "comment", "", "a comment recorded with the sign-off")
	f.BoolVar(&asJSON, "json", false, "print the review (or, with --sign, the sign-off) as JSON")
	return cmd
}

func printReview(w io.Writer, rv *client.AccessReview) error {
	fmt.Fprintf(w, "Access review of tenant %s at %s: %d keys\n\n", rv.Tenant, fmtTime(&rv.GeneratedAt), len(rv.Keys))
	rows := make([][]string, len(rv.Keys))
	for i := range rv.Keys {
		k := &rv.Keys[i]
		rows[i] = keyRow(k.ID, k.Role, k.Name, k.Groups, k.Bindings, &k.CreatedAt, k.ExpiresAt, k.LastUsedAt, k.Status)
	}
	if err := printKeyTable(w, rows); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\ndigest: %s\n", rv.Digest)
	return err
}
