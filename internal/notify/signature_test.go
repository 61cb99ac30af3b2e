package notify

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSignKnownAnswer(t *testing.T) {
	// HMAC-SHA256 of "1700000000.{}" under "0123456789abcdef0123456789abcdef",
	// computed independently with: printf '1700000000.{}' |
	// openssl dgst -sha256 -hmac 0123456789abcdef0123456789abcdef
	const want = "sha256=417adf36b901772f658597a76d329694e335e65fc0849d7715c3ca33406309b5"
	got := Sign("0123456789abcdef0123456789abcdef", "1700000000", []byte("{}"))
	if got != want {
		t.Errorf("Sign() = %s, want %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"v":1,"kind":"approval.requested"}`)
	now := time.Unix(1_700_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := Sign(testSecret, ts, body)
	tests := []struct {
		name      string
		secret    string
		timestamp string
		body      []byte
		signature string
		now       time.Time
		ok        bool
	}{
		{"valid", testSecret, ts, body, sig, now, true},
		{"valid at the tolerance", testSecret, ts, body, sig, now.Add(DefaultTolerance), true},
		{"valid slightly early", testSecret, ts, body, sig, now.Add(-time.Minute), true},
		{"wrong secret", strings.Repeat("w", 40), ts, body, sig, now, false},
		{"tampered body", testSecret, ts, []byte(`{"v":1,"kind":"approval.requested" }`), sig, now, false},
		{"old timestamp", testSecret, ts, body, sig, now.Add(DefaultTolerance + time.Second), false},
		{"future timestamp", testSecret, ts, body, sig, now.Add(-DefaultTolerance - time.Second), false},
		{"timestamp changed", testSecret, strconv.FormatInt(now.Unix()+1, 10), body, sig, now, false},
		{"upper-case hex", testSecret, ts, body, "sha256=" + strings.ToUpper(sig[7:]), now, false},
		{"no prefix", testSecret, ts, body, sig[7:], now, false},
		{"other algorithm", testSecret, ts, body, "sha1=" + sig[7:], now, false},
		{"truncated", testSecret, ts, body, sig[:len(sig)-2], now, false},
		{"not hex", testSecret, ts, body, "sha256=" + strings.Repeat("zz", 32), now, false},
		{"empty signature", testSecret, ts, body, "", now, false},
		{"empty timestamp", testSecret, "", body, sig, now, false},
		{"signed timestamp", testSecret, "+" + ts, body, Sign(testSecret, "+"+ts, body), now, false},
		{"leading zero", testSecret, "0" + ts, body, Sign(testSecret, "0"+ts, body), now, false},
		{"fractional", testSecret, ts + ".5", body, Sign(testSecret, ts+".5", body), now, false},
		{"huge timestamp", testSecret, "99999999999999999999", body, Sign(testSecret, "99999999999999999999", body), now, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.timestamp, tt.body, tt.signature, tt.now, DefaultTolerance)
			if tt.ok != (err == nil) {
				t.Fatalf("Verify() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrSignature) {
				t.Errorf("Verify() = %v, want it to wrap ErrSignature", err)
			}
			if err != nil && strings.Contains(err.Error(), tt.secret) {
				t.Errorf("Verify() = %q shows the secret", err)
			}
		})
	}
}
