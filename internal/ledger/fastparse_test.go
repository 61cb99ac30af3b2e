package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/gowebpki/jcs"
)

func sampleEntries() [][]byte {
	var out [][]byte
	bodies := []string{
		`{"principal":{"kind":"agent","id":"agent-0007","key_id":"key_01"},"action":"db.query","args":{"url":"https://api.example.com/v2/accounts/7/notes","limit":8,"body":"Reschedule [REDACTED:email]","f":1.5,"g":-0.0001,"h":1e21,"big":12345678901234567890},"effect":"deny","reasons":["x"],"redacted":[{"category":"pii","hmac":"q1Xh0m3b="}]}`,
		`{"note":"entrée ✓ <&> \u2028 \t \u0001 \" \\ / 😀","ü":1,"z":2,"a":[[],{},null,true,false],"\ud83d\ude00":1,"\uffff":2}`,
		`{}`,
	}
	for i, body := range bodies {
		for _, seq := range []int64{0, 1, 12345} {
			e := &Entry{V: 1, Tenant: "acme", Seq: seq, ID: fmt.Sprintf("evt_%d \"q\" ü", i), Time: FormatTime(time.Unix(1700000000, 123456000)),
				Kind: "decision", Actor: "key\t1", Body: json.RawMessage(body)}
			if seq > 0 {
				e.Prev = EncodeHash(LeafHash([]byte{byte(i)}))
			}
			b, err := Encode(e)
			if err != nil {
				panic(err)
			}
			out = append(out, b)
		}
	}
	return out
}

func FuzzFastParse(f *testing.F) {
	for _, b := range sampleEntries() {
		f.Add(b)
	}
	for _, s := range []string{`{"a":1}`, `[1,2]`, `"x"`, `1e+21`, `-0`, `0.1`, `{"b":1,"a":2}`, `{"a":1,"a":1}`, `"\u001f"`, `"\u0008"`, `"\/"`, `{"\u00e9":1,"é":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if canonical(b) {
			c, err := jcs.Transform(b)
			if err != nil || !bytes.Equal(c, b) {
				t.Fatalf("canonical(%q) = true, Transform = %q, %v", b, c, err)
			}
		}
		fast, ferr := Parse(b)
		slow, serr := parseGeneral(b)
		if (ferr == nil) != (serr == nil) || ferr != nil && ferr.Error() != serr.Error() {
			t.Fatalf("Parse(%q) err = %v, general %v", b, ferr, serr)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("Parse(%q) = %+v, general %+v", b, fast, slow)
		}
	})
}

func TestFastPathTaken(t *testing.T) {
	for _, b := range sampleEntries() {
		if !canonical(b) {
			t.Errorf("canonical(%s) = false", b)
			continue
		}
		e, ok := decodeCanonical(b)
		if !ok || e.check() != nil {
			t.Errorf("decodeCanonical(%s) = %v", b, ok)
		}
	}
}

func BenchmarkParseGeneral(b *testing.B) {
	d := sampleEntries()[1]
	for b.Loop() {
		parseGeneral(d)
	}
}

func BenchmarkParseFast(b *testing.B) {
	d := sampleEntries()[1]
	for b.Loop() {
		Parse(d)
	}
}

// encodeGeneral is Encode's general path: JSON, then jcs over everything.
func encodeGeneral(e *Entry) ([]byte, error) {
	raw, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	return jcs.Transform(raw)
}

// FuzzEncodeFast checks that whenever the direct encoder answers, it
// writes exactly what canonicalizing the whole entry writes.
func FuzzEncodeFast(f *testing.F) {
	f.Add(`{"a":1,"b":[true,null,"x"]}`, "key_1", "rcpt_01", "decision", int64(7))
	f.Add(`{"b":1,"a":2}`, "key\"1", "evt", "policy.version", int64(0))
	f.Add(`{"n":1.0}`, "k", "id ü", "kind", int64(1<<53+1))
	f.Add(`{"s":"\u00e9\u2028"}`, "k\\", "id", "k\x7f", int64(3))
	f.Add(`[]`, "k", "id", "kind", int64(3))
	f.Fuzz(func(t *testing.T, body, actor, id, kind string, seq int64) {
		if seq < 0 {
			seq = -seq
		}
		if seq < 0 {
			return
		}
		e := &Entry{V: FormatVersion, Tenant: "acme", Seq: seq, ID: id, Time: FormatTime(time.Unix(1700000000, 5000)),
			Kind: kind, Actor: actor, Prev: EncodeHash(LeafHash([]byte(body))), Body: json.RawMessage(body)}
		if !json.Valid(e.Body) {
			return
		}
		fast, ok := encodeFast(e)
		if !ok {
			return
		}
		slow, err := encodeGeneral(e)
		if err != nil {
			t.Fatalf("encodeFast(%+v) = %q, general path fails: %v", e, fast, err)
		}
		if !bytes.Equal(fast, slow) {
			t.Fatalf("encodeFast = %q\ngeneral    = %q", fast, slow)
		}
	})
}

func TestEncodeFastTaken(t *testing.T) {
	e := &Entry{V: FormatVersion, Tenant: "acme", Seq: 3, ID: "rcpt_01", Time: FormatTime(time.Unix(1700000000, 5000)),
		Kind: "decision", Actor: "key_1", Prev: EncodeHash(LeafHash(nil)), Body: json.RawMessage(`{"a":[1,"x"],"b":{}}`)}
	fast, ok := encodeFast(e)
	if !ok {
		t.Fatal("encodeFast declined a canonical body with plain fields")
	}
	slow, err := encodeGeneral(e)
	if err != nil || !bytes.Equal(fast, slow) {
		t.Fatalf("encodeFast = %q, general = %q, %v", fast, slow, err)
	}
	for _, body := range []string{`{"b":1,"a":2}`, `{"n":1.0}`, `[1]`} {
		e.Body = json.RawMessage(body)
		if _, ok := encodeFast(e); ok {
			t.Errorf("encodeFast took the non-canonical or non-object body %s", body)
		}
	}
}
