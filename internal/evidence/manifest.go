// Package evidence makes and checks SOC 2 evidence archives (DESIGN.md
// section 1): for a tenant and a period, one zip with every ledger entry
// of the period (exact bytes), the signed checkpoints and proofs that
// show the period is complete, the records an auditor asks for
// (policies, access, kill switches, alerts, incidents, approvals,
// monitoring, settings), a report for people and a mapping for tools,
// and a manifest of every file's SHA-256 signed with the log key. Verify
// checks an archive offline against keys the auditor trusts, never
// against anything the archive says of itself.
package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// Format is the manifest's format name and version.
const Format = "warden-evidence/1"

// Manifest lists an archive's files with their digests.
type Manifest struct {
	Format    string    `json:"format"`
	Tenant    string    `json:"tenant"`
	Origin    string    `json:"origin"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Generated time.Time `json:"generated"`
	Generator string    `json:"generator"`
	// KeyName names the key that signs the checkpoints and this
	// manifest's signature (manifest.sig).
	KeyName string `json:"key_name"`
	// FirstSeq and LastSeq bound the period's entries (-1: none);
	// Entries is how many.
	FirstSeq int64 `json:"first_seq"`
	LastSeq  int64 `json:"last_seq"`
	Entries  int64 `json:"entries"`
	// Files are every file of the archive but the manifest and its
	// signature, in archive order.
	Files []FileDigest `json:"files"`
}

// FileDigest is one file's size and SHA-256 (hex).
type FileDigest struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// sigText is the text of the signed note over a manifest: it binds the
// manifest's exact bytes (by digest), its tenant and its period.
func sigText(m *Manifest, manifest []byte) string {
	sum := sha256.Sum256(manifest)
	return fmt.Sprintf("%s manifest\n%s\n%s %s\n%s\n", Format, m.Tenant,
		m.From.UTC().Format(time.RFC3339Nano), m.To.UTC().Format(time.RFC3339Nano), hex.EncodeToString(sum[:]))
}

// signManifest returns manifest.sig: a signed note over sigText.
func signManifest(m *Manifest, manifest []byte, signer note.Signer) ([]byte, error) {
	return note.Sign(&note.Note{Text: sigText(m, manifest)}, signer)
}

// checkManifestSig reports whether sig is a note signed by one of keys
// over this manifest's text.
func checkManifestSig(m *Manifest, manifest, sig []byte, keys []note.Verifier) error {
	n, err := note.Open(sig, note.VerifierList(keys...))
	if err != nil {
		return fmt.Errorf("manifest.sig is not signed by a trusted key: %v", err)
	}
	if want := sigText(m, manifest); n.Text != want {
		return fmt.Errorf("manifest.sig signs %q, not this manifest (%q)", strings.TrimSpace(n.Text), strings.TrimSpace(want))
	}
	return nil
}

// Checkpoints is checkpoints.json: the signed checkpoints that bracket
// the period and the proofs that tie the period's entries to them.
type Checkpoints struct {
	// Start is the latest checkpoint at or before the period's first
	// entry (absent when the period starts the log); End the latest when
	// the archive was made, which covers the period and its boundaries.
	Start string `json:"start,omitempty"`
	End   string `json:"end"`
	// Consistency proves that End's tree extends Start's.
	Consistency []string `json:"consistency"`
	// First and Last prove the period's first and last entries are in
	// End's tree at their seqs.
	First *Inclusion `json:"first,omitempty"`
	Last  *Inclusion `json:"last,omitempty"`
	// Before is the entry just before the period (absent when the period
	// starts the log), After the entry just after it: their times lie
	// outside the period and the chain ties them to its first and last
	// entries, so no entry of the period is missing at either end.
	Before *Boundary `json:"before,omitempty"`
	After  *Boundary `json:"after,omitempty"`
	// Prunes are the retention.pruned entries that declare the period's pruned
	// bodies, each proved in End's tree.
	Prunes []Boundary `json:"prunes,omitempty"`
	// Trusted, when the export was asked for it, proves that End's tree
	// extends the tree of the size the auditor holds a checkpoint of.
	Trusted *TreeProof `json:"trusted,omitempty"`
}

// TreeProof is a consistency proof from a tree of Size to End's.
type TreeProof struct {
	Size  int64    `json:"size"`
	Proof []string `json:"proof"`
}

// Inclusion is an inclusion proof of the entry at Seq in End's tree.
type Inclusion struct {
	Seq   int64    `json:"seq"`
	Proof []string `json:"proof"`
}

// Boundary is an entry outside the period, with its inclusion proof.
type Boundary struct {
	Entry string   `json:"entry"` // exact bytes
	Seq   int64    `json:"seq"`
	Proof []string `json:"proof"`
}

// prunedLine is the line of entries.ndjson that stands for an entry
// whose body was pruned: its seq and stored leaf hash.
type prunedLine struct {
	Seq      int64  `json:"seq"`
	Pruned   bool   `json:"pruned"`
	LeafHash string `json:"leaf_hash"`
}
