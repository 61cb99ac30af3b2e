package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The end-to-end tests run the real binary, built once per test run.
var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// wardenBinary builds cmd/warden once and returns its path. It skips the
// test only when there is no go tool to build with.
func wardenBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("end-to-end tests need the go tool on PATH to build the warden binary")
	}
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "warden-e2e-"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "warden")
		out, err := exec.Command(goTool, "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if binErr != nil {
		t.Fatalf("build warden: %v", binErr)
	}
	return binPath
}

// cleanEnv is the environment without Warden's variables, so that a
// developer's WARDEN_URL cannot turn an offline command into an online one.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WARDEN_") {
			env = append(env, kv)
		}
	}
	return env
}

// result is a finished command.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return "exit " + strconv.Itoa(r.code) + "\nstdout:\n" + r.stdout + "\nstderr:\n" + r.stderr
}

// warden runs the binary to completion (at most a minute).
func warden(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, wardenBinary(t), args...)
	cmd.Env = cleanEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("warden %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// lockedBuffer collects a child's output while it runs.
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

// serverProc is a running `warden serve`.
type serverProc struct {
	cmd    *exec.Cmd
	url    string
	keys   map[string]string // "owner/_system", "admin/default" → key
	stdout *lockedBuffer
	stderr *lockedBuffer
	done   chan struct{} // closed when stdout is drained
	exited *result
}

var (
	listenLine = regexp.MustCompile(`listening on (https?://\S+) `)
	keyLine    = regexp.MustCompile(`^\s+(\S+)\s+\(tenant (\S+)\): (wdn_\S+)$`)
)

// startServer starts `warden serve` on a free loopback port and waits
// until it prints its address; the test's cleanup kills it if it still runs.
func startServer(t *testing.T, dataDir string, extra ...string) *serverProc {
	t.Helper()
	args := append([]string{"serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0"}, extra...)
	return startServers(t, args)[0]
}

// startServers starts one `warden serve` per argument list, all before
// waiting for any, and waits until each prints its address.
func startServers(t *testing.T, argLists ...[]string) []*serverProc {
	t.Helper()
	procs := make([]*serverProc, len(argLists))
	lines := make([]chan string, len(argLists))
	for i, args := range argLists {
		cmd := exec.Command(wardenBinary(t), args...)
		cmd.Env = cleanEnv()
		p := &serverProc{cmd: cmd, keys: map[string]string{}, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan struct{})}
		cmd.Stderr = p.stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start warden serve: %v", err)
		}
		t.Cleanup(func() {
			if p.exited == nil {
				_ = cmd.Process.Kill()
				<-p.done
				_ = cmd.Wait()
			}
		})
		ch := make(chan string, 64)
		go func() {
			defer close(p.done)
			defer close(ch)
			sc := bufio.NewScanner(io.TeeReader(out, p.stdout))
			for sc.Scan() {
				select {
				case ch <- sc.Text():
				default: // nobody listens any more; keep draining
				}
			}
		}()
		procs[i], lines[i] = p, ch
	}
	deadline := time.After(30 * time.Second)
	for i, p := range procs {
		for p.url == "" {
			select {
			case line, ok := <-lines[i]:
				if !ok {
					t.Fatalf("warden serve %d ended before listening:\nstdout:\n%s\nstderr:\n%s", i+1, p.stdout, p.stderr)
				}
				if m := keyLine.FindStringSubmatch(line); m != nil {
					p.keys[m[1]+"/"+m[2]] = m[3]
				}
				if m := listenLine.FindStringSubmatch(line); m != nil {
					p.url = m[1]
				}
			case <-deadline:
				t.Fatalf("warden serve %d printed no address in 30s:\nstdout:\n%s\nstderr:\n%s", i+1, p.stdout, p.stderr)
			}
		}
	}
	return procs
}

// waitFor polls url until it answers 200 (with key as bearer, if set).
func waitFor(t *testing.T, url, key string) []byte {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return b
			}
			err = errors.New(resp.Status + ": " + string(b))
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s never answered 200 within 20s: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline
	}
}

// stop sends SIGTERM and waits for the server to exit.
func (p *serverProc) stop(t *testing.T) result {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	waited := make(chan error, 1)
	go func() { <-p.done; waited <- p.cmd.Wait() }()
	var err error
	select {
	case err = <-waited:
	case <-time.After(40 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Fatalf("warden serve did not exit within 40s of SIGTERM")
	}
	r := result{stdout: p.stdout.String(), stderr: p.stderr.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("wait for warden serve: %v", err)
	}
	p.exited = &r
	return r
}
