package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/store/storetest"
)

// Environment of the child process TestCrash starts.
const (
	crashDBEnv   = "WARDEN_CRASH_DB"   // database path; set only in the child
	crashKeyEnv  = "WARDEN_CRASH_KEY"  // file holding the checkpoint signer key
	crashSeedEnv = "WARDEN_CRASH_SEED" // repeats a logged run of TestCrash
)

// TestCrashChild is the process TestCrash kills. It appends from several
// writers forever and prints "ack <seq> <id>" after each acknowledgement.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashDBEnv)
	if path == "" {
		t.Skip("the child of TestCrash; runs only when started by it")
	}
	ctx := context.Background()
	skey, err := os.ReadFile(os.Getenv(crashKeyEnv))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(db, ledger.Config{Origin: storetest.Origin, Signer: signer,
		CheckpointInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// Checkpoints are written concurrently with appends, so kills land in
	// their transactions too.
	go l.Checkpointer().Run(ctx)
	// No child outlives its parent: the parent holds stdin open.
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(3)
	}()
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	errc := make(chan error, 1)
	for w := range 8 {
		go func() {
			for i := 0; ; i++ {
				ack, err := l.Append(ctx, tenant, ledger.Request{Kind: "test.entry", Actor: "system",
					Body: map[string]int{"w": w, "i": i}})
				if err == nil {
					mu.Lock()
					fmt.Fprintf(out, "ack %d %s\n", ack.Seq, ack.ID)
					err = out.Flush()
					mu.Unlock()
				}
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	t.Fatalf("child: %v", <-errc)
}

// TestCrash kills a process that appends concurrently, at random moments,
// many times over one database, and checks after each kill that every
// acknowledged entry survived where it was acknowledged, seq is contiguous
// and the log verifies.
func TestCrash(t *testing.T) {
	cycles := 20
	if testing.Short() {
		cycles = 5
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(crashSeedEnv); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("%s=%q: %v", crashSeedEnv, s, err)
		}
	}
	t.Logf("seed %d (%s=%d repeats it)", seed, crashSeedEnv, seed)
	rng := rand.New(rand.NewPCG(seed, seed))

	dir := t.TempDir()
	path := filepath.Join(dir, "warden.db")
	skey, vkey, err := ledger.GenerateKey(storetest.Origin)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "signer.key")
	if err := os.WriteFile(keyFile, []byte(skey), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}

	acked := map[int64]string{} // every acknowledgement of every cycle
	var size int64
	for cycle := range cycles {
		var plan killPlan
		if rng.IntN(2) == 0 {
			plan.afterAcks = 1 + rng.IntN(400)
		} else {
			plan.afterDelay = time.Duration(rng.IntN(300)) * time.Millisecond
		}
		n := runChild(t, path, keyFile, plan, acked)
		got := checkAfterCrash(t, path, acked, signer, verifier)
		if got < size {
			t.Fatalf("cycle %d: log shrank from %d to %d entries", cycle, size, got)
		}
		t.Logf("cycle %d: kill %s: %d acks, log has %d entries (%d acknowledged in all)",
			cycle, plan, n, got, len(acked))
		size = got
	}
	if len(acked) == 0 {
		t.Fatalf("no acknowledgement in %d cycles; the child never appended", cycles)
	}
}

// killPlan says when to kill the child: after a number of acks or a delay.
type killPlan struct {
	afterAcks  int
	afterDelay time.Duration
}

func (p killPlan) String() string {
	if p.afterAcks > 0 {
		return fmt.Sprintf("after %d acks", p.afterAcks)
	}
	return fmt.Sprintf("after %v", p.afterDelay)
}

// child is a test of this binary run as another process (see startChild).
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser // the child runs until this closes, or it is killed
	stdout io.Reader
	stderr *bytes.Buffer
}

// startChild starts the test named test of this test binary in a new
// process, with env added to its environment.
func startChild(t *testing.T, test string, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		stdin.Close()
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stdin: stdin, stdout: stdout, stderr: &bytes.Buffer{}}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		stdin.Close()
		t.Fatalf("start %s: %v", test, err)
	}
	return c
}

// runChild starts TestCrashChild, kills it with SIGKILL as planned, records
// every acknowledgement it printed into acked and returns how many.
func runChild(t *testing.T, path, keyFile string, plan killPlan, acked map[int64]string) int {
	t.Helper()
	c := startChild(t, "TestCrashChild", crashDBEnv+"="+path, crashKeyEnv+"="+keyFile)
	defer c.stdin.Close()
	cmd, stdout, stderr := c.cmd, c.stdout, c.stderr
	kill := func() { cmd.Process.Signal(syscall.SIGKILL) }
	if plan.afterDelay > 0 || plan.afterAcks == 0 {
		timer := time.AfterFunc(plan.afterDelay, kill)
		defer timer.Stop()
	}
	// Lines written before the kill are still in the pipe: read to EOF.
	n := 0
	var other []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		var seq int64
		var id string
		if _, err := fmt.Sscanf(line, "ack %d %s", &seq, &id); err != nil {
			other = append(other, line)
			continue
		}
		if prev, ok := acked[seq]; ok {
			t.Fatalf("seq %d acknowledged twice: %s and %s", seq, prev, id)
		}
		acked[seq] = id
		if n++; n == plan.afterAcks {
			kill()
		}
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want killed by SIGKILL\nstdout: %s\nstderr: %s",
			err, strings.Join(other, "\n"), stderr.String())
	}
	if strings.Contains(stderr.String(), "DATA RACE") {
		t.Errorf("child reported a data race:\n%s", stderr.String())
	}
	return n
}

// checkAfterCrash reopens the database as a restarted server would and
// checks it against every acknowledgement so far. It returns the log size.
func checkAfterCrash(t *testing.T, path string, acked map[int64]string, signer note.Signer, verifier note.Verifier) int64 {
	t.Helper()
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatalf("Open() after the kill = %v, want nil", err)
	}
	defer db.Close()
	recs := storetest.AllRecords(t, db, tenant)
	for i, r := range recs {
		if r.Seq != int64(i) {
			t.Fatalf("record %d has seq %d: seq is not contiguous", i, r.Seq)
		}
	}
	for seq, id := range acked {
		if seq >= int64(len(recs)) {
			t.Fatalf("acknowledged seq %d (%s) is lost: the log has %d entries", seq, id, len(recs))
		}
		if recs[seq].ID != id {
			t.Fatalf("acknowledged seq %d is %s, stored %s", seq, id, recs[seq].ID)
		}
	}
	if len(recs) > 0 {
		storetest.Verify(t, db, signer, verifier, tenant)
	}
	return int64(len(recs))
}
