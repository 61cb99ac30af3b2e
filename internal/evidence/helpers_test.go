package evidence_test

import (
	"encoding/json"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardenhq/warden/internal/ledger"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
func jsonMarshal(v any) ([]byte, error)   { return json.Marshal(v) }

func fixedKey(tb testing.TB, skey string) (note.Signer, note.Verifier) {
	tb.Helper()
	s, err := note.NewSigner(skey)
	if err != nil {
		tb.Fatal(err)
	}
	vkey, err := ledger.VerifierKey(skey)
	if err != nil {
		tb.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		tb.Fatal(err)
	}
	return s, v
}
