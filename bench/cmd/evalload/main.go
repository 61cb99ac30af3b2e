// Command evalload measures POST /v1/evaluate over HTTP against the real
// server with durable receipts, open-loop at fixed rates, and prints the
// figures as a Markdown table beside the must and goal.
//
// It builds the real binary (go build ./cmd/warden, from the module root)
// or takes -warden PATH, starts `warden serve` on SQLite in a temporary
// data directory on a loopback port, pushes and activates a small policy
// with a CEL condition, then for each rate schedules request i at
// start + i/rate. A pool of workers (the in-flight limit) sends them; a
// request that finds every worker busy and the hand-off queue full is
// dropped and counted. Latency is measured from the scheduled time, not
// from the send, so a server or generator that falls behind shows in the
// latency (no coordinated omission). Dropped and failed requests count as
// infinitely slow in the percentiles.
//
// At the end it stops the server with SIGTERM, requires exit 0, and runs
// `warden log verify --data-dir DIR --trusted-key DIR/log.pub`, which must
// exit 0. It exits 1 if the must (3,000/s with p99 < 20 ms) is missed and
// 2 if the measurement itself fails.
//
//	go run ./bench/cmd/evalload [-rates 1000,3000,5000,10000] [-duration 30s] [-must-duration 5m]
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wardenhq/warden/bench"
)

// Thresholds of the issue. Never lower one to make a run pass.
const (
	mustRate  = 3000
	mustP99ms = 20.0
	goalRate  = 10000
	goalP99ms = 5.0
	// lateAfter is how long after its scheduled time a request may start
	// before it counts as late.
	lateAfter = time.Millisecond
)

type options struct {
	warden       string
	rates        []int
	duration     time.Duration
	mustDuration time.Duration
	warmup       time.Duration
	inflight     int
	dir          string
	loadBefore   string
	// limits adds counting limits to the policy (generous enough never to
	// refuse the workload): every allow is then counted in its decision's
	// transaction.
	limits bool
	// serveArgs are added to the serve command line (for comparisons, such
	// as --monitor=false); the table's footer names them.
	serveArgs []string
	dump      string
}

func main() {
	var o options
	var rates string
	flag.StringVar(&o.warden, "warden", "", "warden binary to run (default: go build ./cmd/warden into the temporary directory)")
	flag.StringVar(&rates, "rates", "1000,3000,5000,10000", "comma-separated target rates, decisions/s, run in this order")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "how long each rate runs, except the must rate (3000/s)")
	flag.DurationVar(&o.mustDuration, "must-duration", 5*time.Minute, "how long the must rate (3000/s) runs")
	flag.DurationVar(&o.warmup, "warmup", 5*time.Second, "untimed warm-up at 1000/s before the first rate (0: none)")
	flag.IntVar(&o.inflight, "inflight", 512, "in-flight limit: workers and HTTP connections")
	flag.StringVar(&o.dir, "dir", "", "parent of the temporary data directory (default: the system's)")
	flag.BoolVar(&o.limits, "limits", false, "add a rate limit per agent and a budget on charges to the policy (counted on every allow, never refusing)")
	flag.StringVar(&o.dump, "dump", "", "write each rate's latencies to `PREFIX`.<rate>, a line per request: index and microseconds (-1: failed)")
	serveArgs := flag.String("serve-args", "", "extra `FLAGS` for warden serve, space-separated (for comparisons; the footer names them)")
	flag.Parse()
	o.serveArgs = strings.Fields(*serveArgs)
	o.loadBefore = bench.LoadAverage()
	for _, s := range strings.Split(rates, ",") {
		r, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || r <= 0 {
			fmt.Fprintf(os.Stderr, "evalload: -rates: bad rate %q\n", s)
			os.Exit(2)
		}
		o.rates = append(o.rates, r)
	}
	if o.duration <= 0 || o.mustDuration <= 0 || o.inflight <= 0 || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	res, err := run(ctx, o, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "evalload: %v\n", err)
		os.Exit(2)
	}
	fmt.Print(render(res, o))
	for _, r := range res.rows {
		if r.rate == mustRate && !r.meets(mustP99ms) {
			os.Exit(1)
		}
	}
}

// result is one run: a row per rate and what the log check found.
type result struct {
	rows      []row
	entries   int64
	decisions int64 // answered 200 over the whole run, warm-up included
	verifyOut string
}

// row is the outcome of one rate.
type row struct {
	rate      int
	duration  time.Duration
	scheduled int
	ok        int
	errors    int // transport errors, non-200 answers and wrong decisions
	dropped   int // never sent: the in-flight limit was exhausted
	late      int // sent more than lateAfter after the scheduled time
	elapsed   time.Duration
	p50, p99  float64 // ms, +Inf if more than that share failed or was dropped
	p999, max float64
	serverCPU time.Duration
	loadCPU   time.Duration
	firstErr  string
}

func (r row) achieved() float64 { return float64(r.ok) / r.elapsed.Seconds() }

// meets reports whether every scheduled request was answered with the
// expected decision and p99 is under limit.
func (r row) meets(limitMS float64) bool {
	return r.ok == r.scheduled && r.p99 < limitMS
}

// workload is the mix of requests: allowed, denied by a rule, denied by a
// CEL condition, and unmatched (the default deny), with small args.
type request struct {
	body     []byte
	decision string
}

const policyYAML = `name: agent-tools
default: deny
rules:
  - id: read-workspace
    description: reading files under /workspace
    match: {action: "fs.read", resource: "file:///workspace/*"}
    effect: allow
  - id: list-and-search
    match: {action: "*.search"}
    effect: allow
  - id: no-recursive-delete
    description: recursive deletes are never allowed
    match: {action: "shell.*"}
    when: has(args.command) && args.command.matches("rm\\s+-[a-zA-Z]*[rR]")
    effect: deny
  - id: small-charges
    description: charges up to 100.00 in test mode
    match: {action: "stripe.charges.create"}
    when: args.amount <= 10000 && args.currency == "usd"
    effect: allow
`

var workload = []request{
	{[]byte(`{"principal":{"id":"coder","type":"agent"},"action":{"type":"fs.read","resource":"file:///workspace/src/main.go"},"args":{"offset":0,"limit":4096}}`), "allow"},
	{[]byte(`{"principal":{"id":"coder","type":"agent"},"action":{"type":"shell.exec"},"args":{"command":"rm -rf /tmp/build"}}`), "deny"},
	{[]byte(`{"principal":{"id":"billing-bot","type":"agent"},"action":{"type":"stripe.charges.create","resource":"stripe://acct_1"},"args":{"amount":2500,"currency":"usd"}}`), "allow"},
	{[]byte(`{"principal":{"id":"billing-bot","type":"agent"},"action":{"type":"stripe.charges.create","resource":"stripe://acct_1"},"args":{"amount":250000,"currency":"usd"}}`), "deny"},
	{[]byte(`{"principal":{"id":"coder","type":"agent"},"action":{"type":"docs.search"},"args":{"query":"retry policy"}}`), "allow"},
	{[]byte(`{"principal":{"id":"coder","type":"agent"},"action":{"type":"email.send","resource":"mailto:a@example.com"},"args":{"subject":"hi"}}`), "deny"},
}

// server is the running warden serve child.
type server struct {
	cmd   *exec.Cmd
	url   string
	admin string
	done  chan error
}

func run(ctx context.Context, o options, log io.Writer) (*result, error) {
	tmp, err := os.MkdirTemp(o.dir, "warden-evalload-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(log, "evalload: working in %s\n", tmp)
	bin := o.warden
	if bin == "" {
		bin = filepath.Join(tmp, "warden")
		fmt.Fprintf(log, "evalload: go build -o %s ./cmd/warden\n", bin)
		b := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/warden")
		b.Stdout, b.Stderr = log, log
		if err := b.Run(); err != nil {
			return nil, fmt.Errorf("go build ./cmd/warden (run from the module root): %w", err)
		}
	}
	dataDir := filepath.Join(tmp, "data")
	srv, err := start(ctx, bin, dataDir, o.serveArgs, log)
	if err != nil {
		return nil, err
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = srv.cmd.Process.Kill()
			<-srv.done
		}
	}()
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        o.inflight,
		MaxIdleConnsPerHost: o.inflight,
		MaxConnsPerHost:     o.inflight,
		IdleConnTimeout:     90 * time.Second,
	}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	if err := setUp(ctx, client, srv, o.limits); err != nil {
		return nil, err
	}
	res := &result{}
	if o.warmup > 0 {
		fmt.Fprintf(log, "evalload: warm-up, %v at 1000/s\n", o.warmup)
		w, err := load(ctx, client, srv, 1000, o.warmup, o.inflight, "")
		if err != nil {
			return nil, err
		}
		res.decisions += int64(w.ok)
	}
	for _, rate := range o.rates {
		d := o.duration
		if rate == mustRate {
			d = o.mustDuration
		}
		fmt.Fprintf(log, "evalload: %d/s for %v\n", rate, d)
		r, err := load(ctx, client, srv, rate, d, o.inflight, o.dump)
		if err != nil {
			return nil, err
		}
		res.decisions += int64(r.ok)
		fmt.Fprintf(log, "evalload: %d/s: %d scheduled, %d ok, %d errors, %d dropped, %d late; achieved %.0f/s, p50 %s, p99 %s, p99.9 %s, max %s\n",
			rate, r.scheduled, r.ok, r.errors, r.dropped, r.late, r.achieved(), msText(r.p50), msText(r.p99), msText(r.p999), msText(r.max))
		if r.firstErr != "" {
			fmt.Fprintf(log, "evalload: %d/s: first error: %s\n", rate, r.firstErr)
		}
		res.rows = append(res.rows, *r)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Let the server's connections and the appender settle.
		time.Sleep(2 * time.Second)
	}
	tr.CloseIdleConnections()

	fmt.Fprintf(log, "evalload: stopping the server (SIGTERM)\n")
	_ = srv.cmd.Process.Signal(syscall.SIGTERM)
	var exitErr error
	select {
	case exitErr = <-srv.done:
	case <-time.After(60 * time.Second):
		return nil, errors.New("server did not stop within 60 s of SIGTERM")
	}
	stopped = true
	if exitErr != nil {
		return nil, fmt.Errorf("warden serve after SIGTERM: %w", exitErr)
	}

	fmt.Fprintf(log, "evalload: warden log verify --data-dir %s --trusted-key %s\n", dataDir, filepath.Join(dataDir, "log.pub"))
	v := exec.CommandContext(ctx, bin, "log", "verify", "--data-dir", dataDir, "--trusted-key", filepath.Join(dataDir, "log.pub"))
	v.Env = withoutEnv(os.Environ(), "WARDEN_URL", "WARDEN_DATABASE", "WARDEN_DATA_DIR")
	var out bytes.Buffer
	v.Stdout, v.Stderr = &out, &out
	verr := v.Run()
	res.verifyOut = strings.TrimSpace(stripProgress(out.String()))
	fmt.Fprintln(log, res.verifyOut)
	if verr != nil {
		return nil, fmt.Errorf("warden log verify: %w (the log of durable receipts does not verify)", verr)
	}
	m := regexp.MustCompile(`(?m)^ok\s+default\s+(\d+) entries`).FindStringSubmatch(res.verifyOut)
	if m == nil {
		return nil, fmt.Errorf("warden log verify: no line for tenant default in:\n%s", res.verifyOut)
	}
	res.entries, _ = strconv.ParseInt(m[1], 10, 64)
	if res.entries < res.decisions {
		return nil, fmt.Errorf("the log holds %d entries, fewer than the %d decisions answered 200", res.entries, res.decisions)
	}
	fmt.Fprintf(log, "evalload: log verified: %d entries for %d decisions answered 200\n", res.entries, res.decisions)
	return res, nil
}

// start runs warden serve and reads its URL and the admin key of the
// default tenant from its standard output.
func start(ctx context.Context, bin, dataDir string, extra []string, log io.Writer) (*server, error) {
	// The per-key rate limit is off: one key drives the whole load here.
	args := append([]string{"serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--log-level", "warn", "--rate-limit", "0"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = withoutEnv(os.Environ(), "WARDEN_URL", "WARDEN_DATABASE", "WARDEN_DATA_DIR")
	cmd.Stderr = log
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, done: make(chan error, 1)}
	found := make(chan struct{})
	var once sync.Once
	keyRE := regexp.MustCompile(`^\s*admin\s+\(tenant default\):\s+(wdn_\S+)`)
	urlRE := regexp.MustCompile(`listening on (https?://\S+)`)
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			if m := keyRE.FindStringSubmatch(line); m != nil {
				s.admin = m[1]
			}
			if m := urlRE.FindStringSubmatch(line); m != nil {
				s.url = m[1]
			}
			if s.admin != "" && s.url != "" {
				once.Do(func() { close(found) })
			}
			mu.Unlock()
		}
		s.done <- cmd.Wait()
	}()
	select {
	case <-found:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		return nil, errors.New("warden serve printed no admin key and URL within 30 s")
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		return nil, ctx.Err()
	}
	mu.Lock()
	defer mu.Unlock()
	fmt.Fprintf(log, "evalload: server %s (pid %d)\n", s.url, cmd.Process.Pid)
	return s, nil
}

func withoutEnv(env []string, names ...string) []string {
	return slices.DeleteFunc(env, func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.Contains(names, k)
	})
}

// limitsYAML makes every allow of the workload draw on counters: a rate
// per agent on every action and a budget on charges, both far above what
// a run uses.
const limitsYAML = `limits:
  - {id: per-agent, per: agent, rate: 100000000/h}
  - {id: spend, match: {action: "stripe.charges.create"}, per: agent, budget: {field: args.amount, max: 1000000000000000, period: 24h}}
`

// setUp waits for readiness, pushes and activates the policy and checks
// each request of the workload once.
func setUp(ctx context.Context, c *http.Client, s *server, withLimits bool) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := c.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server not ready within 30 s (%v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	doc := policyYAML
	if withLimits {
		doc += limitsYAML
	}
	if _, err := call(ctx, c, s, "/v1/policies", "application/yaml", []byte(doc), http.StatusCreated); err != nil {
		return fmt.Errorf("push policy: %w", err)
	}
	if _, err := call(ctx, c, s, "/v1/policies/agent-tools/versions/1/activate", "", nil, http.StatusOK); err != nil {
		return fmt.Errorf("activate policy: %w", err)
	}
	for _, w := range workload {
		b, err := call(ctx, c, s, "/v1/evaluate", "application/json", w.body, http.StatusOK)
		if err != nil {
			return fmt.Errorf("evaluate %s: %w", w.body, err)
		}
		if !bytes.Contains(b, []byte(`"decision":"`+w.decision+`"`)) {
			return fmt.Errorf("evaluate %s: answer %s, want decision %s", w.body, b, w.decision)
		}
	}
	return nil
}

func call(ctx context.Context, c *http.Client, s *server, path, ct string, body []byte, want int) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Authorization", "Bearer "+s.admin)
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		return b, fmt.Errorf("status %d, want %d: %s", resp.StatusCode, want, b)
	}
	return b, nil
}

type job struct {
	i   int
	due time.Time
}

// load runs one open-loop rate for d: request i is due at start + i/rate.
func load(ctx context.Context, c *http.Client, s *server, rate int, d time.Duration, inflight int, dump string) (*row, error) {
	n := int(int64(rate) * int64(d) / int64(time.Second))
	if n <= 0 {
		return nil, fmt.Errorf("rate %d for %v schedules no request", rate, d)
	}
	lat := make([]time.Duration, n) // from the scheduled time; -1: failed or dropped
	jobs := make(chan job, inflight)
	var errs, late atomic.Int64
	var firstErr atomic.Value
	fail := func(i int, msg string) {
		lat[i] = -1
		errs.Add(1)
		firstErr.CompareAndSwap(nil, msg)
	}
	auth := "Bearer " + s.admin
	var wg sync.WaitGroup
	var lastDone atomic.Int64
	for range inflight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, 4096)
			for j := range jobs {
				if time.Since(j.due) > lateAfter {
					late.Add(1)
				}
				w := workload[j.i%len(workload)]
				req, err := http.NewRequest(http.MethodPost, s.url+"/v1/evaluate", bytes.NewReader(w.body))
				if err != nil {
					fail(j.i, err.Error())
					continue
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", auth)
				resp, err := c.Do(req)
				if err != nil {
					fail(j.i, err.Error())
					continue
				}
				buf = buf[:0]
				bb := bytes.NewBuffer(buf)
				_, err = bb.ReadFrom(resp.Body)
				resp.Body.Close()
				now := time.Now()
				buf = bb.Bytes()
				switch {
				case err != nil:
					fail(j.i, err.Error())
				case resp.StatusCode != http.StatusOK:
					fail(j.i, fmt.Sprintf("status %d: %s", resp.StatusCode, bb.String()))
				case !bytes.Contains(buf, []byte(`"decision":"`+w.decision+`"`)):
					fail(j.i, fmt.Sprintf("want decision %s, got %s", w.decision, bb.String()))
				default:
					lat[j.i] = now.Sub(j.due)
				}
				for {
					old := lastDone.Load()
					if now.UnixNano() <= old || lastDone.CompareAndSwap(old, now.UnixNano()) {
						break
					}
				}
			}
		}()
	}

	serverCPU0 := procCPU(s.cmd.Process.Pid)
	loadCPU0 := bench.ProcessCPU()
	dropped := 0
	start := time.Now()
	for i := 0; i < n; i++ {
		due := start.Add(time.Duration(int64(i) * int64(time.Second) / int64(rate)))
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		}
		if ctx.Err() != nil {
			close(jobs)
			wg.Wait()
			return nil, ctx.Err()
		}
		select {
		case jobs <- job{i, due}:
		default:
			lat[i] = -1
			dropped++
		}
	}
	close(jobs)
	wg.Wait()
	r := &row{rate: rate, duration: d, scheduled: n, errors: int(errs.Load()), dropped: dropped, late: int(late.Load()),
		serverCPU: procCPU(s.cmd.Process.Pid) - serverCPU0, loadCPU: bench.ProcessCPU() - loadCPU0}
	r.elapsed = time.Unix(0, lastDone.Load()).Sub(start)
	if r.elapsed <= 0 {
		r.elapsed = d
	}
	if v, ok := firstErr.Load().(string); ok {
		r.firstErr = v
	}
	r.ok = n - r.errors - r.dropped
	if dump != "" {
		if err := writeLatencies(fmt.Sprintf("%s.%d", dump, rate), lat); err != nil {
			return nil, err
		}
	}
	r.p50, r.p99, r.p999, r.max = quantiles(lat)
	return r, nil
}

// writeLatencies writes one line per request: its index (request i was
// due at start + i/rate) and its latency in microseconds (-1: failed or
// dropped), to find when the slow ones happened.
func writeLatencies(path string, lat []time.Duration) error {
	var b bytes.Buffer
	for i, d := range lat {
		us := int64(-1)
		if d >= 0 {
			us = d.Microseconds()
		}
		fmt.Fprintf(&b, "%d %d\n", i, us)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// quantiles of the latencies in ms, failed and dropped requests (-1)
// counting as infinitely slow.
func quantiles(lat []time.Duration) (p50, p99, p999, max float64) {
	s := make([]float64, len(lat))
	for i, d := range lat {
		if d < 0 {
			s[i] = math.Inf(1)
		} else {
			s[i] = float64(d) / float64(time.Millisecond)
		}
	}
	slices.Sort(s)
	q := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return s[max0(min(i, len(s)-1))]
	}
	return q(0.50), q(0.99), q(0.999), s[len(s)-1]
}

func max0(i int) int {
	if i < 0 {
		return 0
	}
	return i
}

// procCPU is the user + system CPU time of process pid so far.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	// After the command: state is field 3, utime 14 and stime 15.
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const clkTck = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / clkTck
}

func msText(v float64) string {
	if math.IsInf(v, 1) {
		return "∞"
	}
	return fmt.Sprintf("%.2f ms", v)
}

func render(res *result, o options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| target | ran | scheduled | achieved | p50 | p99 | p99.9 | max | errors | dropped | late | server CPU / decision | generator CPU / decision | must | goal | status |\n")
	fmt.Fprintf(&b, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|\n")
	for _, r := range res.rows {
		must, goal, status := "—", "—", "—"
		if r.rate == mustRate {
			must = fmt.Sprintf("%d/s, p99 < %.0f ms", mustRate, mustP99ms)
			status = "must met"
			if !r.meets(mustP99ms) {
				status = "**MUST MISSED**"
			}
		}
		if r.rate == goalRate {
			goal = fmt.Sprintf("%d/s, p99 < %.0f ms", goalRate, goalP99ms)
			if r.meets(goalP99ms) {
				status = "goal met"
			} else {
				status = "goal missed"
			}
		}
		perDecision := func(cpu time.Duration) string {
			if r.ok == 0 {
				return "—"
			}
			return fmt.Sprintf("%.0f µs", float64(cpu)/float64(time.Microsecond)/float64(r.ok))
		}
		fmt.Fprintf(&b, "| %d/s | %v | %d | %.0f/s | %s | %s | %s | %s | %d | %d | %d | %s | %s | %s | %s | %s |\n",
			r.rate, r.duration, r.scheduled, r.achieved(), msText(r.p50), msText(r.p99), msText(r.p999), msText(r.max),
			r.errors, r.dropped, r.late, perDecision(r.serverCPU), perDecision(r.loadCPU), must, goal, status)
	}
	fmt.Fprintf(&b, "\nMachine: %s. Load generator on the same machine (one process, one http.Transport), %d workers/connections (in-flight limit), latency from each request's scheduled time; warm-up %v at 1000/s before the first rate. Log after the run: %d entries (%d decisions answered 200), `warden log verify --trusted-key` OK.\n",
		bench.Machine(o.dir, o.loadBefore), o.inflight, o.warmup, res.entries, res.decisions)
	if len(o.serveArgs) > 0 {
		fmt.Fprintf(&b, "Server run with the extra flags `%s`.\n", strings.Join(o.serveArgs, " "))
	}
	return b.String()
}

// stripProgress drops the verifier's carriage-return progress lines.
func stripProgress(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if i := strings.LastIndexByte(line, '\r'); i >= 0 {
			line = strings.TrimPrefix(line[i+1:], "\033[K")
		}
		if strings.TrimSpace(line) != "" {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
