package main

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/client"
)

const replayAllowAll = `name: ops
default: deny
rules:
  - id: allow-all
    match: {action: "*"}
    effect: allow
`

// replayNoShell is replayAllowAll with shell commands denied.
const replayNoShell = replayAllowAll + `  - id: no-shell
    match: {action: "shell.*"}
    effect: deny
`

// spaces collapses the runs of spaces that align the text report.
var spaces = regexp.MustCompile(` +`)

// replayText is the text report of r with each run of spaces one space.
func replayText(r result) string { return spaces.ReplaceAllString(r.stdout, " ") }

// replayed decodes the report `warden policy replay --json` printed.
func replayed(t *testing.T, r result) client.ReplayResult {
	t.Helper()
	var res client.ReplayResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("printed no report: %v\n%s", err, r)
	}
	return res
}

// wantReplay checks a report's counts of decisions, compared and changed
// decisions, and that every change is a shell command denied by no-shell.
func wantReplay(t *testing.T, what string, res client.ReplayResult, decisions, changed int) {
	t.Helper()
	rep := res.Report
	if rep.Decisions != decisions || rep.Compared != decisions || rep.Skipped != 0 || rep.Changed != changed || rep.Errors != 0 || rep.Invalid != 0 {
		t.Errorf("%s: report %+v\nwant %d decisions, all compared, %d changed", what, rep, decisions, changed)
	}
	if changed == 0 {
		return
	}
	one := func(k string) map[string]int { return map[string]int{k: changed} }
	if !reflect.DeepEqual(rep.ByTransition, one("allow->deny")) || !reflect.DeepEqual(rep.ByRule, one("no-shell")) || !reflect.DeepEqual(rep.ByAction, one("shell.exec")) {
		t.Errorf("%s: by transition %v, rule %v, action %v; want %d allow->deny by no-shell on shell.exec", what, rep.ByTransition, rep.ByRule, rep.ByAction, changed)
	}
	if len(rep.Examples) == 0 || len(rep.Examples) > changed {
		t.Errorf("%s: %d examples, want 1 to %d", what, len(rep.Examples), changed)
	}
}

// TestE2EPolicyReplay replays a stricter version over recorded decisions,
// on the server and offline over its data directory, and reports what a
// candidate decided in shadow.
func TestE2EPolicyReplay(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir)
	waitFor(t, srv.url+"/readyz", "")
	admin := srv.keys["admin/default"]
	waitFor(t, srv.url+"/v1/log/checkpoint", admin)
	cli := func(t *testing.T, args ...string) result {
		t.Helper()
		return warden(t, append(args, "--url", srv.url, "--key", admin)...)
	}
	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow() // later steps build on this one
		}
	}
	files := t.TempDir()
	allowAll, noShell := filepath.Join(files, "allow-all.yaml"), filepath.Join(files, "no-shell.yaml")
	writeFile(t, allowAll, []byte(replayAllowAll))
	writeFile(t, noShell, []byte(replayNoShell))
	offline := func(t *testing.T, file string, args ...string) result {
		t.Helper()
		return warden(t, append([]string{"policy", "replay", "--file", file, "--data-dir", dir}, args...)...)
	}
	// evaluate asks for one decision per agent and action; it returns the
	// receipts of the shell commands.
	evaluate := func(t *testing.T, shadow bool, calls ...[2]string) (shell []string) {
		t.Helper()
		for _, c := range calls {
			r := cli(t, "evaluate", "--principal", c[0], "--action", c[1], "--args", `{"command": "ls -l"}`)
			a := evaluated(t, r)
			if r.code != 0 || a.Decision != "allow" || (a.Shadow != nil) != shadow {
				t.Fatalf("evaluate %s %s = %s\nwant allow (shadow: %v)", c[0], c[1], r, shadow)
			}
			if strings.HasPrefix(c[1], "shell.") {
				shell = append(shell, a.ReceiptID)
				if shadow && a.Shadow.Decision != "deny" {
					t.Errorf("evaluate %s %s: shadow %+v, want deny", c[0], c[1], a.Shadow)
				}
			}
		}
		return shell
	}
	var shellReceipts []string
	var whole client.ReplayResult

	step("setup", func(t *testing.T) {
		if r := cli(t, "policy", "push", allowAll, "--activate"); r.code != 0 || !strings.Contains(r.stdout, "activated ops version 1") {
			t.Fatalf("policy push --activate = %s", r)
		}
		if r := cli(t, "policy", "push", noShell); r.code != 0 || !strings.Contains(r.stdout, "created ops version 2") {
			t.Fatalf("policy push = %s", r)
		}
		shellReceipts = evaluate(t, false, [2]string{"ops-bot", "shell.exec"}, [2]string{"ops-bot", "http.get"},
			[2]string{"build-bot", "shell.exec"}, [2]string{"build-bot", "db.read"}, [2]string{"report-bot", "http.get"})
	})

	step("replay of a stricter version", func(t *testing.T) {
		r := cli(t, "policy", "replay", "ops", "2", "--json")
		if r.code != 1 || !strings.Contains(r.stderr, "changes 2 of 5 compared decisions") {
			t.Errorf("policy replay ops 2 --json = %s\nwant exit 1", r)
		}
		whole = replayed(t, r)
		wantReplay(t, "policy replay ops 2", whole, 5, 2)
		var got []string
		for _, f := range whole.Report.Examples {
			got = append(got, f.ReceiptID)
		}
		if whole.Policy != (client.ReplayPolicy{Name: "ops", Version: 2}) || !slices.Equal(got, shellReceipts) {
			t.Errorf("policy replay ops 2: policy %+v, examples %v; want ops 2 and the shell receipts %v", whole.Policy, got, shellReceipts)
		}
		r = cli(t, "policy", "replay", "ops", "2")
		for _, want := range []string{"replay of ops version 2, entries [", " decisions 5\n", " changed 2\n",
			"BY TRANSITION CHANGED\nallow->deny 2\n", "BY RULE CHANGED\nno-shell 2\n", "BY AGENT CHANGED\nbuild-bot 1\nops-bot 1\n",
			"ops-bot shell.exec allow->deny no-shell\n", shellReceipts[0], shellReceipts[1]} {
			if !strings.Contains(replayText(r), want) {
				t.Errorf("policy replay ops 2: stdout lacks %q\n%s", want, r)
			}
		}
		if r.code != 1 {
			t.Errorf("policy replay ops 2 = %s, want exit 1", r)
		}
	})

	step("offline replay of the file while the server runs", func(t *testing.T) {
		r := offline(t, noShell, "--json")
		if r.code != 1 {
			t.Errorf("policy replay --file --data-dir = %s, want exit 1", r)
		}
		res := replayed(t, r)
		if !reflect.DeepEqual(res.Report, whole.Report) || res.Policy.Name != "ops" || res.FromSeq != 0 || res.ToSeq < whole.ToSeq {
			t.Errorf("offline replay = %+v\nwant the server's %+v", res, whole)
		}
		r = offline(t, noShell)
		if r.code != 1 || !strings.Contains(r.stdout, "replay of no-shell.yaml (policy \"ops\", digest ") || !strings.Contains(r.stdout, "on tenant default") || !strings.Contains(replayText(r), " changed 2\n") {
			t.Errorf("policy replay --file --data-dir = %s\nwant exit 1 and the counts", r)
		}
	})

	step("replay of an identical policy", func(t *testing.T) {
		r := cli(t, "policy", "replay", "ops", "1")
		if r.code != 0 || !strings.Contains(replayText(r), " decisions 5\n") || !strings.Contains(r.stdout, "no decision changes\n") {
			t.Errorf("policy replay ops 1 = %s\nwant exit 0 and no change", r)
		}
		if r := offline(t, allowAll, "--tenant", "default"); r.code != 0 || !strings.Contains(r.stdout, "no decision changes\n") {
			t.Errorf("policy replay --file allow-all.yaml = %s\nwant exit 0 and no change", r)
		}
	})

	step("usage errors", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			r    result
			want string
		}{
			{"no version", cli(t, "policy", "replay", "ops"), "NAME VERSION"},
			{"no such version", cli(t, "policy", "replay", "ops", "9"), "404"},
			{"a time that is not RFC 3339", cli(t, "policy", "replay", "ops", "2", "--from", "yesterday"), "--from"},
			{"too many examples", cli(t, "policy", "replay", "ops", "2", "--examples", "5000"), "--examples"},
			{"a file and a server", cli(t, "policy", "replay", "--file", noShell), "--url"},
			{"a file and a version", warden(t, "policy", "replay", "ops", "2", "--file", noShell, "--data-dir", dir), "not both"},
			{"no database", warden(t, "policy", "replay", "--file", noShell, "--data-dir", files), "database"},
			{"no shadow without a candidate", cli(t, "policy", "shadow-report"), "no candidate"},
		} {
			if tc.r.code != 2 || !strings.Contains(tc.r.stderr, tc.want) {
				t.Errorf("%s: %s\nwant exit 2 and %q", tc.name, tc.r, tc.want)
			}
		}
	})

	step("shadow report of the candidate", func(t *testing.T) {
		if r := cli(t, "policy", "candidate", "ops", "2"); r.code != 0 {
			t.Fatalf("policy candidate ops 2 = %s", r)
		}
		since := time.Now().UTC()
		time.Sleep(10 * time.Millisecond) // entry times have microseconds: keep the candidate's setting before since
		evaluate(t, true, [2]string{"ops-bot", "shell.exec"}, [2]string{"ops-bot", "shell.exec"}, [2]string{"report-bot", "http.get"})
		r := cli(t, "policy", "shadow-report", "--json")
		if r.code != 1 {
			t.Errorf("policy shadow-report --json = %s, want exit 1", r)
		}
		res := replayed(t, r)
		wantReplay(t, "policy shadow-report", res, 3, 2)
		if res.Policy != (client.ReplayPolicy{Name: "ops", Version: 2}) || res.Report.ByAgent["ops-bot"] != 2 {
			t.Errorf("policy shadow-report: policy %+v, by agent %v; want ops 2 and ops-bot 2", res.Policy, res.Report.ByAgent)
		}
		r = cli(t, "policy", "shadow-report")
		if r.code != 1 || !strings.Contains(r.stdout, "shadow report of candidate ops version 2, entries [") || !strings.Contains(replayText(r), "BY RULE CHANGED\nno-shell 2\n") {
			t.Errorf("policy shadow-report = %s\nwant exit 1 and the flips", r)
		}
		r = cli(t, "policy", "replay", "ops", "2", "--from", since.Format(time.RFC3339Nano), "--json")
		wantReplay(t, "policy replay --from", replayed(t, r), 3, 2)
		r = cli(t, "policy", "replay", "ops", "2", "--to", since.Format(time.RFC3339Nano), "--json")
		wantReplay(t, "policy replay --to", replayed(t, r), 5, 2)
		if r := cli(t, "policy", "replay", "ops", "2", "--from", time.Now().Add(time.Hour).Format(time.RFC3339)); r.code != 0 || !strings.Contains(replayText(r), " decisions 0\n") {
			t.Errorf("policy replay --from an hour ahead = %s\nwant exit 0 and no decision", r)
		}
	})

	step("offline replay after the server stopped", func(t *testing.T) {
		r := cli(t, "policy", "replay", "ops", "2", "--json", "--examples", "1")
		online := replayed(t, r)
		wantReplay(t, "policy replay ops 2", online, 8, 4)
		if len(online.Report.Examples) != 1 || online.Report.Examples[0].ReceiptID != shellReceipts[0] {
			t.Errorf("policy replay --examples 1: examples %+v, want the first shell receipt %s", online.Report.Examples, shellReceipts[0])
		}
		if r := srv.stop(t); r.code != 0 {
			t.Fatalf("stop = %s", r)
		}
		r = offline(t, noShell, "--json", "--examples", "1")
		if res := replayed(t, r); r.code != 1 || !reflect.DeepEqual(res.Report, online.Report) || res.ToSeq < online.ToSeq {
			t.Errorf("offline replay = %s\nwant exit 1 and the server's %+v", r, online)
		}
		if r := offline(t, noShell, "--tenant", "absent"); r.code != 2 || !strings.Contains(r.stderr, `tenant "absent" has no log`) {
			t.Errorf("offline replay of an absent tenant = %s, want exit 2", r)
		}
	})
}

// The replay commands say how CI reads their exit status.
func TestE2EPolicyReplayHelp(t *testing.T) {
	for _, args := range [][]string{{"policy", "replay"}, {"policy", "shadow-report"}} {
		r := warden(t, append(args, "--help")...)
		if r.code != 0 || !strings.Contains(r.stdout, "Exit status: 0 when") || !strings.Contains(r.stdout, "CI job") || !strings.Contains(r.stdout, "--from") {
			t.Errorf("warden %s --help = %s", strings.Join(args, " "), r)
		}
	}
}
