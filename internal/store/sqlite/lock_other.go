//go:build !unix

package sqlite

import "os"

// lockStore cannot lock here: Exclusive opens take no lock and keep no
// cache (see Options.Exclusive).
func lockStore(string) (*os.File, error) { return nil, errNoLock }
