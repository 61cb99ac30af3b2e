package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// monitorTrace writes a trace: an agent at 5 decisions a minute for three
// hours, then 40 a minute for ten minutes, then one minute denied 25
// times of 30.
func monitorTrace(t *testing.T) string {
	t.Helper()
	start := time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)
	var b strings.Builder
	line := func(at time.Time, decision string) {
		fmt.Fprintf(&b, `{"time":%q,"tenant":"acme","agent":"bot","action":"fs.read","decision":%q,"spend":0.01,"outcome":"succeeded","latency_ms":120}`+"\n",
			at.Format(time.RFC3339Nano), decision)
	}
	for m := range 190 {
		n := 5
		if m >= 180 {
			n = 40
		}
		for i := range n {
			line(start.Add(time.Duration(m)*time.Minute+time.Duration(i)*time.Second), "allow")
		}
	}
	for i := range 30 {
		d := "allow"
		if i < 25 {
			d = "deny"
		}
		line(start.Add(190*time.Minute+time.Duration(i)*time.Second), d)
	}
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func runMonitorCmd(args ...string) (stdout, stderr string, err error) {
	root := newRoot()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err = root.Execute()
	return out.String(), errb.String(), err
}

func TestMonitorReplayCommand(t *testing.T) {
	stdout, stderr, err := runMonitorCmd("monitor", "replay", "--trace", monitorTrace(t))
	if err != nil {
		t.Fatalf("monitor replay = %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "1330 observations of 1 agents") {
		t.Errorf("summary %q does not count the trace", stderr)
	}
	var got []string
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var a map[string]any
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.UseNumber()
		if err := dec.Decode(&a); err != nil {
			t.Fatalf("alert line %q: %v", sc.Text(), err)
		}
		for _, k := range []string{"time", "agent", "metric", "severity", "detector", "observed", "baseline"} {
			if _, ok := a[k]; !ok {
				t.Errorf("alert line %q has no %q", sc.Text(), k)
			}
		}
		got = append(got, fmt.Sprintf("%s %s %s %s", a["time"], a["metric"], a["direction"], a["detector"]))
	}
	want := []string{
		"2025-01-06T03:02:00Z decisions up cusum_fast",
		"2025-01-06T03:11:00Z denies up threshold",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("alerts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestMonitorReplayErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(`{"time":"2025-01-06T00:00:00Z","tenant":"a","agent":"b","action":"x","decision":"allow"}`+"\n"+`{"time":"2025-01-06T00:00:01Z"}`+"\n"), 0o600)
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no trace", []string{"monitor", "replay"}, "--trace"},
		{"missing file", []string{"monitor", "replay", "--trace", filepath.Join(dir, "none")}, "no such file"},
		{"bad line", []string{"monitor", "replay", "--trace", bad}, "line 2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runMonitorCmd(tt.args...)
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != exitUsage || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("monitor replay = %v, want exit %d mentioning %q", err, exitUsage, tt.want)
			}
		})
	}
}

func TestMonitorReplayHelpDocumentsFormat(t *testing.T) {
	stdout, _, err := runMonitorCmd("monitor", "replay", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"time", "tenant", "agent", "action", "decision", "findings", "spend", "outcome", "latency_ms",
		"metric", "severity", "detector", "observed", "baseline"} {
		if !strings.Contains(stdout, "  "+field) {
			t.Errorf("--help does not document %q", field)
		}
	}
}
