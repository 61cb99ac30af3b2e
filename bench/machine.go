package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Machine describes where the figures were measured: CPUs, CPU model, Go
// version and the file system that took the fsyncs.
func Machine(dir, load string) string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	if dir == "" {
		dir = os.TempDir()
	}
	return fmt.Sprintf("%d CPUs (nproc), %s, %s %s/%s, database on %s, 1-minute load average before the run %s", runtime.NumCPU(), model,
		runtime.Version(), runtime.GOOS, runtime.GOARCH, fileSystem(dir), load)
}

// LoadAverage returns the 1-minute load average.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

// fileSystem names the file system type and device holding dir, from
// /proc/mounts (the longest mount point that is a prefix of dir).
func fileSystem(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "unknown file system"
	}
	if p, err := filepath.EvalSymlinks(abs); err == nil {
		abs = p
	}
	b, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return "unknown file system"
	}
	best, desc := "", "unknown file system"
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		mnt := f[1]
		inside := abs == mnt || strings.HasPrefix(abs, strings.TrimSuffix(mnt, "/")+"/")
		if inside && len(mnt) > len(best) {
			best, desc = mnt, fmt.Sprintf("%s (%s at %s)", f[2], f[0], mnt)
		}
	}
	return desc
}
