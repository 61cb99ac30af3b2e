package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/wardenhq/warden/client"
	"github.com/wardenhq/warden/internal/api"
	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/policy"
)

// Replay asks of a policy version that is not active what it would have
// decided on the tenant's recorded decisions; the shadow report asks the
// same of the candidate's live shadow decisions. Both exit 1 when the
// answer is "something else", so that a CI job can gate a change on it.

// replayPage is how many entries one offline read takes; progress is
// shown every replayProgressEvery entries.
const (
	replayPage          = 1000
	replayProgressEvery = 10_000
)

const replayExitStatus = `Exit status: 0 when the version decides every compared decision as recorded, 1
when it changes at least one (a CI job can gate a policy change on it), 2 on
usage, connection, server or read errors.`

// replayRange is the time range flags of replay and shadow-report.
type replayRange struct {
	from, to string
	examples int
	asJSON   bool
}

func (f *replayRange) bind(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.from, "from", "", "start of the range, RFC 3339, inclusive (default: the start of the log)")
	cmd.Flags().StringVar(&f.to, "to", "", "end of the range, RFC 3339, exclusive (default: the end of the log)")
	cmd.Flags().IntVar(&f.examples, "examples", api.DefaultReplayFlip, fmt.Sprintf("how many changed decisions to show (1 to %d)", api.MaxReplayFlips))
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print the report as JSON, in the shape of the API")
}

// parse checks the flags and returns the times (zero: unset).
func (f *replayRange) parse() (from, to time.Time, err error) {
	if f.examples < 1 || f.examples > api.MaxReplayFlips {
		return from, to, &exitError{exitUsage, fmt.Errorf("--examples %d must be from 1 to %d", f.examples, api.MaxReplayFlips)}
	}
	at := func(flag, v string) (time.Time, error) {
		if v == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return t, &exitError{exitUsage, fmt.Errorf("--%s %q must be an RFC 3339 time, e.g. 2025-01-31T00:00:00Z", flag, v)}
		}
		return t, nil
	}
	if from, err = at("from", f.from); err != nil {
		return from, to, err
	}
	if to, err = at("to", f.to); err != nil {
		return from, to, err
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return from, to, &exitError{exitUsage, fmt.Errorf("--to %s is before --from %s", f.to, f.from)}
	}
	return from, to, nil
}

type replayFlags struct {
	src  logSource
	rng  replayRange
	file string
}

func newPolicyReplayCmd() *cobra.Command {
	f := &replayFlags{}
	cmd := &cobra.Command{
		Use:   "replay (NAME VERSION | --file POLICY.yaml [--data-dir DIR | --database DB])",
		Short: "Report which recorded decisions a policy version would have decided otherwise",
		Long: `Evaluate a policy version against the tenant's recorded decisions of a time range
(--from, --to: RFC 3339; default the whole log) and report how many it would
have decided otherwise: by transition (allow->deny), by rule, by action and by
agent, with the earliest changed decisions as examples. Only decisions that the
recorded policy itself decided are compared; those a kill switch, limit or
session rule decided are counted as skipped. The version sees what the log
holds: args with scan findings redacted.

With NAME VERSION the server replays a pushed version (active or not). With
--file it runs offline: the file is compiled here and replayed over the log in
a data directory (--data-dir, read-only; safe while the server runs) or a
PostgreSQL database (--database), for --tenant (default "default").

` + replayExitStatus,
		Example: `  warden policy replay payments 4 --from 2025-01-01T00:00:00Z
  warden policy replay --file payments.yaml --data-dir /var/lib/warden --tenant acme`,
		Args: func(_ *cobra.Command, args []string) error {
			switch {
			case f.file != "" && len(args) != 0:
				return errors.New("give NAME VERSION (replay on the server) or --file (offline), not both")
			case f.file == "" && len(args) != 2:
				return errors.New("give NAME VERSION (replay on the server), or --file POLICY.yaml (offline)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			from, to, err := f.rng.parse()
			if err != nil {
				return err
			}
			var res *client.ReplayResult
			var title string
			if f.file != "" {
				res, title, err = replayOffline(cmd.Context(), f, from, to, cmd.InOrStdin(), cmd.ErrOrStderr())
			} else {
				res, title, err = replayOnline(cmd.Context(), f, args, from, to)
			}
			if err != nil {
				return err
			}
			return reportReplay(cmd.OutOrStdout(), title, res, f.rng.asJSON, "the version")
		},
	}
	f.src.cmd = cmd
	f.src.remote.bind(cmd, `tenant: an owner key's (online), or whose log to replay (offline, default "default")`)
	fl := cmd.Flags()
	fl.StringVar(&f.file, "file", "", "replay this policy file offline ('-' for standard input)")
	fl.StringVar(&f.src.dataDir, "data-dir", envOr("WARDEN_DATA_DIR", DefaultDataDir), "data directory to read with --file (env WARDEN_DATA_DIR)")
	fl.StringVar(&f.src.database, "database", "", "database to read with --file: an SQLite file (default <data-dir>/warden.db) or a postgres:// URL")
	f.rng.bind(cmd)
	return cmd
}

func replayOnline(ctx context.Context, f *replayFlags, args []string, from, to time.Time) (*client.ReplayResult, string, error) {
	fl := f.src.cmd.Flags()
	if fl.Changed("data-dir") || fl.Changed("database") {
		return nil, "", &exitError{exitUsage, errors.New("--data-dir and --database are read only with --file (offline)")}
	}
	name, n, err := parseVersionArgs(args)
	if err != nil {
		return nil, "", err
	}
	c, err := f.src.client()
	if err != nil {
		return nil, "", err
	}
	res, err := c.Replay(ctx, client.ReplayQuery{Name: name, Version: n, From: from, To: to, Examples: f.rng.examples})
	if err != nil {
		if isStatus(err, http.StatusNotFound) {
			err = fmt.Errorf("%w: is %s version %d pushed? ('warden policy history %s')", err, name, n, name)
		}
		return nil, "", &exitError{exitUsage, err}
	}
	return res, fmt.Sprintf("replay of %s version %d", res.Policy.Name, res.Policy.Version), nil
}

// replayOffline compiles the file and replays it over the log of a
// database opened read-only.
func replayOffline(ctx context.Context, f *replayFlags, from, to time.Time, stdin io.Reader, stderr io.Writer) (*client.ReplayResult, string, error) {
	if fl := f.src.cmd.Flags(); fl.Changed("url") || fl.Changed("key") {
		return nil, "", &exitError{exitUsage, errors.New("--file replays offline: --url and --key do not apply")}
	}
	doc, err := readDoc(f.file, stdin)
	if err != nil {
		return nil, "", err
	}
	cand, err := policy.ParseAndCompile(doc)
	if err != nil {
		return nil, "", &exitError{exitUsage, fmt.Errorf("%s: %w", f.file, err)}
	}
	db, _, err := f.src.openStore(ctx)
	if err != nil {
		return nil, "", err
	}
	defer db.Close()
	tenant := tenantOrDefault(f.src.tenant)
	fromSeq, toSeq, err := seqWindow(ctx, db, tenant, from, to)
	if err != nil {
		return nil, "", &exitError{exitUsage, err}
	}
	rp := policy.NewReplayer(cand, f.rng.examples)
	if err := replayLog(ctx, db, tenant, fromSeq, toSeq, rp, stderr); err != nil {
		return nil, "", &exitError{exitUsage, err}
	}
	res := &client.ReplayResult{Policy: client.ReplayPolicy{Name: cand.Name}, FromSeq: fromSeq, ToSeq: toSeq, Report: clientReport(rp.Report())}
	title := fmt.Sprintf("replay of %s (policy %q, digest %.12s) on tenant %s", filepath.Base(f.file), cand.Name, cand.Digest, tenant)
	return res, title, nil
}

// seqWindow turns a time range (zero: open) into the seq range [from, to)
// of the tenant's log, as the server does.
func seqWindow(ctx context.Context, db ledger.Store, tenant string, fromT, toT time.Time) (from, to int64, err error) {
	head, err := db.Head(ctx, tenant)
	if err != nil {
		return 0, 0, fmt.Errorf("read the log of tenant %q: %w", tenant, err)
	}
	if head.Size == 0 {
		return 0, 0, fmt.Errorf("tenant %q has no log in this database", tenant)
	}
	at := func(t time.Time, def int64) (int64, error) {
		if t.IsZero() {
			return def, nil
		}
		seq, err := db.SeqAtTime(ctx, tenant, t)
		if err != nil {
			return 0, fmt.Errorf("find seq at %s in the log of tenant %q: %w", t.Format(time.RFC3339Nano), tenant, err)
		}
		return min(seq, head.Size), nil
	}
	if from, err = at(fromT, 0); err != nil {
		return 0, 0, err
	}
	if to, err = at(toT, head.Size); err != nil {
		return 0, 0, err
	}
	return from, to, nil
}

// replayLog adds every decision entry of the tenant with seq in
// [from, to) to rp. On a terminal it shows on stderr how far it got.
func replayLog(ctx context.Context, db ledger.Store, tenant string, from, to int64, rp *policy.Replayer, stderr io.Writer) error {
	f, ok := stderr.(*os.File)
	show := ok && isTerminal(f)
	decisions, shown := 0, from
	for seq := from; seq < to; {
		recs, err := db.Records(ctx, tenant, seq, to, replayPage)
		if err != nil {
			return fmt.Errorf("read the log of tenant %q at seq %d: %w", tenant, seq, err)
		}
		if len(recs) == 0 {
			break
		}
		for i := range recs {
			r := &recs[i]
			if r.Kind != event.KindDecision || r.Data == nil { // pruned: nothing to replay
				continue
			}
			e, err := ledger.Parse(r.Data)
			if err != nil {
				return fmt.Errorf("entry %d of tenant %q: %w", r.Seq, tenant, err)
			}
			d, err := event.Decode(e.Kind, e.Body)
			if err != nil {
				return fmt.Errorf("entry %d of tenant %q: %w", r.Seq, tenant, err)
			}
			rp.Add(r.Seq, r.ID, d.(*event.Decision), nil)
			decisions++
		}
		seq = recs[len(recs)-1].Seq + 1
		if show && seq-shown >= replayProgressEvery {
			fmt.Fprintf(stderr, "\r  replaying %s: %d/%d entries, %d decisions", tenant, seq-from, to-from, decisions)
			shown = seq
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if shown > from {
		fmt.Fprint(stderr, "\r\033[K")
	}
	return nil
}

// clientReport is a report in the shape the API answers it.
func clientReport(r *policy.ReplayReport) client.ReplayReport {
	out := client.ReplayReport{
		Decisions: r.Decisions, Compared: r.Compared, Skipped: r.Skipped, SkippedBy: r.SkippedBy,
		Changed: r.Changed, ChangedRedacted: r.ChangedRedacted,
		ByTransition: r.ByTransition, ByRule: r.ByRule, ByAction: r.ByAction, ByAgent: r.ByAgent,
		Examples: make([]client.ReplayFlip, len(r.Examples)), Errors: r.Errors, Invalid: r.Invalid,
	}
	for i, f := range r.Examples {
		out.Examples[i] = client.ReplayFlip{Seq: f.Seq, ReceiptID: f.ReceiptID, Agent: f.Agent, Action: f.Action,
			From: f.From, To: f.To, Rules: f.Rules, Redacted: f.Redacted}
	}
	return out
}

func newPolicyShadowReportCmd() *cobra.Command {
	var (
		r   remote
		rng replayRange
	)
	cmd := &cobra.Command{
		Use:   "shadow-report [--from T] [--to T]",
		Short: "Report which decisions the candidate policy decided otherwise in shadow",
		Long: `Tally the decisions the tenant's candidate policy ('warden policy candidate')
evaluated in shadow during a time range (--from, --to: RFC 3339; default the
whole log) against what the active policy decided: how many it would have
changed, by transition, rule, action and agent, with the earliest as examples.
Unlike 'replay', it reads what the candidate decided live, on the full request.

` + replayExitStatus,
		Example: `  warden policy shadow-report --from 2025-01-31T00:00:00Z --examples 50`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, to, err := rng.parse()
			if err != nil {
				return err
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			res, err := c.ShadowReport(cmd.Context(), from, to, rng.examples)
			if err != nil {
				if isStatus(err, http.StatusNotFound) {
					err = fmt.Errorf("%w: the tenant has no candidate; make one with 'warden policy candidate NAME VERSION'", err)
				}
				return &exitError{exitUsage, err}
			}
			title := fmt.Sprintf("shadow report of candidate %s version %d", res.Policy.Name, res.Policy.Version)
			return reportReplay(cmd.OutOrStdout(), title, res, rng.asJSON, "the candidate")
		},
	}
	r.bind(cmd, "tenant (owner keys)")
	rng.bind(cmd)
	return cmd
}

func isStatus(err error, status int) bool {
	var ce *client.Error
	return errors.As(err, &ce) && ce.Status == status
}

// reportReplay prints res and turns a change into exit status 1.
func reportReplay(w io.Writer, title string, res *client.ReplayResult, asJSON bool, who string) error {
	var err error
	if asJSON {
		err = printJSON(w, res)
	} else {
		err = printReplay(w, title, res)
	}
	if err != nil {
		return err
	}
	if rep := &res.Report; rep.Changed > 0 {
		return &exitError{exitIntegrity, fmt.Errorf("%s changes %d of %d compared decisions", who, rep.Changed, rep.Compared)}
	}
	return nil
}

// replayTop bounds the rows of each table of the text report.
const replayTop = 20

// printReplay writes the readable report: the summary, the changes by
// transition, rule, action and agent, then the examples.
func printReplay(w io.Writer, title string, res *client.ReplayResult) error {
	rep := &res.Report
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s, entries [%d, %d) of the log\n", title, res.FromSeq, res.ToSeq)
	fmt.Fprintf(tw, "  decisions\t%d\n  compared\t%d\n", rep.Decisions, rep.Compared)
	fmt.Fprintf(tw, "  skipped\t%d%s\n", rep.Skipped, aside(rep.Skipped > 0, skippedText(rep.SkippedBy)))
	fmt.Fprintf(tw, "  changed\t%d%s\n", rep.Changed, aside(rep.ChangedRedacted > 0, fmt.Sprintf("%d on redacted args", rep.ChangedRedacted)))
	fmt.Fprintf(tw, "  errors\t%d%s\n", rep.Errors, aside(rep.Errors > 0, "conditions that failed to evaluate: denied"))
	if rep.Invalid > 0 {
		fmt.Fprintf(tw, "  invalid\t%d  (records that could not be rebuilt into a request)\n", rep.Invalid)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if rep.Changed == 0 {
		_, err := fmt.Fprintln(w, "no decision changes")
		return err
	}
	for _, t := range []struct {
		head   string
		counts map[string]int
	}{{"TRANSITION", rep.ByTransition}, {"RULE", rep.ByRule}, {"ACTION", rep.ByAction}, {"AGENT", rep.ByAgent}} {
		fmt.Fprintln(tw)
		fmt.Fprintf(tw, "BY %s\tCHANGED\n", t.head)
		top := topCounts(t.counts)
		for i, kv := range top {
			if i == replayTop {
				fmt.Fprintf(tw, "(%d more)\t\n", len(top)-replayTop)
				break
			}
			fmt.Fprintf(tw, "%s\t%d\n", kv.key, kv.n)
		}
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "EXAMPLES: the first %d of %d changed decisions\n", len(rep.Examples), rep.Changed)
	fmt.Fprintln(tw, "SEQ\tRECEIPT\tAGENT\tACTION\tCHANGE\tRULES")
	for _, f := range rep.Examples {
		change := f.From + "->" + f.To
		if f.Redacted {
			change += " (redacted)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", f.Seq, f.ReceiptID, f.Agent, f.Action, change, orDash(strings.Join(f.Rules, ",")))
	}
	return tw.Flush()
}

// aside is "  (note)" when show is set.
func aside(show bool, note string) string {
	if !show {
		return ""
	}
	return "  (" + note + ")"
}

func skippedText(by map[string]int) string {
	parts := make([]string, 0, len(by))
	for _, kv := range topCounts(by) {
		parts = append(parts, fmt.Sprintf("%s %d", kv.key, kv.n))
	}
	return strings.Join(parts, ", ")
}

type keyCount struct {
	key string
	n   int
}

// topCounts orders counts from the largest, ties by key.
func topCounts(m map[string]int) []keyCount {
	out := make([]keyCount, 0, len(m))
	for k, n := range m {
		out = append(out, keyCount{k, n})
	}
	slices.SortFunc(out, func(a, b keyCount) int {
		return cmp.Or(cmp.Compare(b.n, a.n), strings.Compare(a.key, b.key))
	})
	return out
}
