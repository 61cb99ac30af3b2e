// Command pgbench measures durable appends per second on PostgreSQL with
// one and with several `warden` processes writing to one database, as
// several replicas do. Each process runs its own group-commit appender;
// the tenant's head row lock serializes them in the database.
//
//	go run ./bench/cmd/pgbench -database postgres://postgres@127.0.0.1:5432/test?sslmode=disable
//
// It creates a scratch database on that server, drops it at the end, and
// prints a Markdown table with the figures beside each result.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/store/postgres"
	"golang.org/x/mod/sumdb/note"
)

// The figures of the PostgreSQL issue: appends/s in total.
const (
	mustPerSecond = 3000
	goalPerSecond = 10000
)

// childResult is what one writing process reports.
type childResult struct {
	Appends   int64   `json:"appends"`
	Seconds   float64 `json:"seconds"`
	P50Millis float64 `json:"p50_ms"`
	P99Millis float64 `json:"p99_ms"`
}

func main() {
	database := flag.String("database", os.Getenv("WARDEN_TEST_POSTGRES"), "PostgreSQL server URL (a scratch database is created on it)")
	duration := flag.Duration("duration", 10*time.Second, "how long each run appends")
	writers := flag.Int("writers", 64, "concurrent writers per process")
	tenants := flag.Int("tenants", 1, "tenants the writers spread over (1: every append contends for one log)")
	procs := flag.String("processes", "1,3", "process counts to measure, comma-separated")
	child := flag.Bool("child", false, "internal: run as a writing process")
	flag.Parse()
	if *child {
		runChild(*duration, *writers, *tenants)
		return
	}
	if *database == "" {
		fmt.Fprintln(os.Stderr, "pgbench: -database (or WARDEN_TEST_POSTGRES) is required")
		os.Exit(2)
	}
	if err := runParent(*database, *duration, *writers, *tenants, *procs); err != nil {
		fmt.Fprintln(os.Stderr, "pgbench:", err)
		os.Exit(1)
	}
}

func scratchDatabase(ctx context.Context, base string) (dsn string, drop func(), err error) {
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, err
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "warden_bench_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close(ctx)
		return "", nil, err
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), func() {
		_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close(context.Background())
	}, nil
}

func runParent(base string, duration time.Duration, writers, tenants int, procList string) error {
	ctx := context.Background()
	skey, _, err := ledger.GenerateKey("warden")
	if err != nil {
		return err
	}
	type row struct {
		procs   int
		total   int64
		perSec  float64
		p50     float64
		p99     float64
		verifed string
	}
	var rows []row
	for _, f := range strings.Split(procList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("-processes: %q is not a count", f)
		}
		dsn, drop, err := scratchDatabase(ctx, base)
		if err != nil {
			return fmt.Errorf("scratch database: %w", err)
		}
		if _, _, err := postgres.Migrate(ctx, dsn); err != nil {
			drop()
			return err
		}
		fmt.Fprintf(os.Stderr, "%d process(es) × %d writers, %d tenant(s), %s…\n", n, writers, tenants, duration)
		results, err := runChildren(dsn, skey, n, duration, writers, tenants)
		if err != nil {
			drop()
			return err
		}
		var total int64
		var seconds float64
		var p50s, p99s []float64
		for _, r := range results {
			total += r.Appends
			seconds = max(seconds, r.Seconds)
			p50s, p99s = append(p50s, r.P50Millis), append(p99s, r.P99Millis)
		}
		verdict, err := verifyAll(ctx, dsn, skey, tenants, total)
		drop()
		if err != nil {
			return err
		}
		rows = append(rows, row{procs: n, total: total, perSec: float64(total) / seconds,
			p50: slices.Max(p50s), p99: slices.Max(p99s), verifed: verdict})
	}
	fmt.Printf("PostgreSQL durable appends (%d writers per process, %d tenant(s), %s per run; %s, %d CPUs, %s)\n\n",
		writers, tenants, duration, runtime.GOOS+"/"+runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	fmt.Println("| processes | appends | appends/s (total) | worst p50 | worst p99 | must | goal | status | log check |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	failed := false
	for _, r := range rows {
		status := "must met"
		switch {
		case r.perSec >= goalPerSecond:
			status = "goal met"
		case r.perSec < mustPerSecond:
			status, failed = "MUST NOT MET", true
		}
		fmt.Printf("| %d | %d | %.0f | %.1f ms | %.1f ms | %d/s | %d/s | %s | %s |\n",
			r.procs, r.total, r.perSec, r.p50, r.p99, mustPerSecond, goalPerSecond, status, r.verifed)
	}
	if failed {
		os.Exit(1)
	}
	return nil
}

func runChildren(dsn, skey string, n int, duration time.Duration, writers, tenants int) ([]childResult, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	results := make([]childResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(self, "-child", "-duration", duration.String(),
				"-writers", strconv.Itoa(writers), "-tenants", strconv.Itoa(tenants))
			cmd.Env = append(os.Environ(), "PGBENCH_DSN="+dsn, "PGBENCH_KEY="+skey)
			cmd.Stderr = os.Stderr
			out, err := cmd.Output()
			if err != nil {
				errs[i] = fmt.Errorf("process %d: %w", i, err)
				return
			}
			sc := bufio.NewScanner(strings.NewReader(string(out)))
			for sc.Scan() {
				if json.Unmarshal(sc.Bytes(), &results[i]) == nil {
					return
				}
			}
			errs[i] = fmt.Errorf("process %d printed no result", i)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return results, nil
}

// verifyAll checks the run's logs: as many entries as acknowledged, and
// each log verifies.
func verifyAll(ctx context.Context, dsn, skey string, tenants int, acked int64) (string, error) {
	db, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		return "", err
	}
	defer db.Close()
	signer, err := note.NewSigner(skey)
	if err != nil {
		return "", err
	}
	vkey, err := ledger.VerifierKey(skey)
	if err != nil {
		return "", err
	}
	verifier, _ := note.NewVerifier(vkey)
	l, err := ledger.New(db, ledger.Config{Origin: "warden", Signer: signer})
	if err != nil {
		return "", err
	}
	var stored int64
	for t := 0; t < tenants; t++ {
		tenant := fmt.Sprintf("bench-%d", t)
		if _, err := l.Checkpointer().Sign(ctx, tenant); err != nil {
			return "", err
		}
		rep, err := ledger.VerifyStore(ctx, db, ledger.VerifyOptions{Tenant: tenant, Origin: "warden", Keys: []note.Verifier{verifier}}, nil)
		if err != nil {
			return "", err
		}
		if !rep.OK {
			return "", fmt.Errorf("log %s does not verify: %v", tenant, rep.Failure)
		}
		stored += rep.Entries
	}
	if stored != acked {
		return "", fmt.Errorf("%d entries stored, %d acknowledged", stored, acked)
	}
	return fmt.Sprintf("%d entries, verified", stored), nil
}

func runChild(duration time.Duration, writers, tenants int) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, os.Getenv("PGBENCH_DSN"), postgres.Options{MaxConns: 8})
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgbench child:", err)
		os.Exit(1)
	}
	defer db.Close()
	signer, err := note.NewSigner(os.Getenv("PGBENCH_KEY"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgbench child:", err)
		os.Exit(1)
	}
	l, err := ledger.New(db, ledger.Config{Origin: "warden", Signer: signer})
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgbench child:", err)
		os.Exit(1)
	}
	body := map[string]any{
		"principal": map[string]any{"id": "billing-bot", "type": "agent"},
		"action":    map[string]any{"type": "stripe.charges.create", "resource": "stripe://customers/cus_1"},
		"args":      map[string]any{"amount": 1200, "currency": "usd"},
		"decision":  "allow",
		"reasons":   []any{map[string]any{"code": "rule", "rule": "small-charges", "message": "amount within limit"}},
	}
	deadline := time.Now().Add(duration)
	start := time.Now()
	lat := make([][]time.Duration, writers)
	var wg sync.WaitGroup
	var failed sync.Once
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				tenant := fmt.Sprintf("bench-%d", (w+i)%tenants)
				t0 := time.Now()
				if _, err := l.Append(ctx, tenant, ledger.Request{Kind: "decision", Actor: "bench", Body: body}); err != nil {
					failed.Do(func() { fmt.Fprintln(os.Stderr, "pgbench child: append:", err) })
					os.Exit(1)
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	if err := l.Close(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "pgbench child: close:", err)
		os.Exit(1)
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000
	}
	out, _ := json.Marshal(childResult{Appends: int64(len(all)), Seconds: took.Seconds(), P50Millis: pct(0.50), P99Millis: pct(0.99)})
	fmt.Println(string(out))
}
