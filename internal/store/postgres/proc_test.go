package postgres_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Environment of the child processes the multi-process tests start. The
// test binary re-executes itself with -test.run naming one *Child test;
// that test runs only when childRoleEnv names its role.
const (
	childRoleEnv = "WARDEN_PG_CHILD"      // the child's role; set only in children
	childDSNEnv  = "WARDEN_PG_CHILD_DSN"  // the database the child opens
	childIDEnv   = "WARDEN_PG_CHILD_ID"   // the child's index, 0-based
	childKeyEnv  = "WARDEN_PG_CHILD_KEY"  // checkpoint signer key, note text form
	childSeedEnv = "WARDEN_PG_CHILD_SEED" // the parent's seed
	childArgEnv  = "WARDEN_PG_CHILD_ARG"  // a role-specific number
)

// childEnv is what a child reads from its environment.
type childEnv struct {
	dsn, key string
	id       int
	seed     uint64
	arg      int
}

// asChild skips t unless this process is a child started in role.
func asChild(t *testing.T, role string) childEnv {
	t.Helper()
	if os.Getenv(childRoleEnv) != role {
		t.Skipf("a child process of the multi-process tests; runs only with %s=%s", childRoleEnv, role)
	}
	e := childEnv{dsn: os.Getenv(childDSNEnv), key: os.Getenv(childKeyEnv)}
	e.id, _ = strconv.Atoi(os.Getenv(childIDEnv))
	e.seed, _ = strconv.ParseUint(os.Getenv(childSeedEnv), 10, 64)
	e.arg, _ = strconv.Atoi(os.Getenv(childArgEnv))
	return e
}

// exitWithParent ends a child when the parent closes its stdin (or dies),
// so that no child outlives its test.
func exitWithParent() {
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(3)
	}()
}

// lineWriter prints whole lines to stdout, flushed one by one, from any goroutine.
type lineWriter struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func newLineWriter() *lineWriter { return &lineWriter{w: bufio.NewWriter(os.Stdout)} }

func (o *lineWriter) printf(format string, args ...any) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Fprintf(o.w, format+"\n", args...)
	return o.w.Flush()
}

// testSeed returns a fresh seed, or the one in env to repeat a run, and logs it.
func testSeed(t *testing.T, env string) (uint64, *rand.Rand) {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(env); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("%s=%q: %v", env, s, err)
		}
	}
	t.Logf("seed %d (%s=%d repeats it)", seed, env, seed)
	return seed, rand.New(rand.NewPCG(seed, seed))
}

// event is one line a child printed, or (eof) the end of its output.
type event struct {
	child int
	text  string
	at    time.Time
	eof   bool
}

// procGroup runs child processes and merges their output into events.
// At cleanup every child still running is killed and reaped.
type procGroup struct {
	t      *testing.T
	events chan event
	stop   chan struct{}
	procs  []*proc
}

// proc is one child process.
type proc struct {
	id     int
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr lockedBuffer
	exited chan struct{} // closed once Wait returned; err is then set
	err    error

	mu   sync.Mutex
	tail []string // the last lines of stdout, where a child test reports failures
}

// output returns the end of the child's stdout and its stderr, for failure messages.
func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprintf("child %d stdout (last lines):\n%s\nchild %d stderr:\n%s",
		p.id, strings.Join(p.tail, "\n"), p.id, p.stderr.String())
}

func newProcGroup(t *testing.T) *procGroup {
	g := &procGroup{t: t, events: make(chan event, 4096), stop: make(chan struct{})}
	t.Cleanup(func() {
		for _, p := range g.procs {
			p.cmd.Process.Signal(syscall.SIGKILL)
			p.stdin.Close()
		}
		close(g.stop)
		for _, p := range g.procs {
			<-p.exited
			if strings.Contains(p.stderr.String(), "DATA RACE") || t.Failed() {
				t.Logf("pid %d, %s", p.cmd.Process.Pid, p.output())
			}
			if strings.Contains(p.stderr.String(), "DATA RACE") {
				t.Errorf("child %d reported a data race", p.id)
			}
		}
	})
	return g
}

// start runs the test binary's test named test as child number len(procs).
func (g *procGroup) start(test, role string, env ...string) *proc {
	g.t.Helper()
	p := &proc{id: len(g.procs), exited: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.timeout=10m")
	p.cmd.Env = append(os.Environ(), childRoleEnv+"="+role, childIDEnv+"="+strconv.Itoa(p.id))
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Stderr = &p.stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		g.t.Fatal(err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		g.t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		g.t.Fatalf("start child %d: %v", p.id, err)
	}
	g.procs = append(g.procs, p)
	go func() {
		defer close(p.exited)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 64<<10)
	read:
		for sc.Scan() {
			p.mu.Lock()
			if p.tail = append(p.tail, sc.Text()); len(p.tail) > 40 {
				p.tail = p.tail[1:]
			}
			p.mu.Unlock()
			select {
			case g.events <- event{child: p.id, text: sc.Text(), at: time.Now()}:
			case <-g.stop:
				break read // nobody reads events any more
			}
		}
		io.Copy(io.Discard, stdout) // to EOF, so that Wait may run
		// Lines printed before a kill are still in the pipe: all were read.
		select {
		case g.events <- event{child: p.id, eof: true, at: time.Now()}:
		case <-g.stop:
		}
		p.err = p.cmd.Wait()
	}()
	return p
}

// next returns the next event, or false once deadline passes.
func (g *procGroup) next(deadline time.Time) (event, bool) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case ev := <-g.events:
		return ev, true
	case <-timer.C:
		return event{}, false
	}
}

// kill sends SIGKILL to the child and returns when it was sent.
func (p *proc) kill(t *testing.T) time.Time {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill child %d: %v", p.id, err)
	}
	return time.Now()
}

// wait returns the child's exit error once it has exited (its output
// must have been read to EOF), failing t after d.
func (p *proc) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case <-p.exited:
		return p.err
	case <-time.After(d):
		t.Fatalf("child %d did not exit within %v\n%s", p.id, d, p.output())
		return nil
	}
}

// killedBySIGKILL reports whether err is the exit of a process killed by SIGKILL.
func killedBySIGKILL(err error) bool {
	exit, ok := err.(*exec.ExitError)
	if !ok {
		return false
	}
	ws, ok := exit.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// send writes one command line to the child's stdin.
func (p *proc) send(t *testing.T, format string, args ...any) {
	t.Helper()
	if _, err := fmt.Fprintf(p.stdin, format+"\n", args...); err != nil {
		t.Fatalf("command to child %d: %v", p.id, err)
	}
}

// lockedBuffer is a bytes.Buffer safe for the copying goroutine of exec
// and a reader that looks before the child exits.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
