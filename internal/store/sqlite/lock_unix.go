//go:build unix

package sqlite

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockStore takes an exclusive advisory lock on the file beside the
// database that Exclusive opens share; it is held until the returned file
// is closed, or the process ends (a crash releases it).
func lockStore(path string) (*os.File, error) {
	name := path + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock store %q: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("store %q (lock %s): %w", path, name, ErrInUse)
		}
		return nil, fmt.Errorf("lock store %q: %w", path, err)
	}
	return f, nil
}
