package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Headers of a delivery (see the package documentation).
const (
	HeaderEvent     = "X-Warden-Event"
	HeaderDelivery  = "X-Warden-Delivery"
	HeaderTimestamp = "X-Warden-Timestamp"
	HeaderSignature = "X-Warden-Signature"
)

// DefaultTolerance is how far a delivery's timestamp may be from the
// receiver's clock, either way, for Verify to accept it.
const DefaultTolerance = 5 * time.Minute

const signaturePrefix = "sha256="

// ErrSignature marks a delivery whose signature does not verify: malformed
// headers, a wrong signature, or a timestamp outside the tolerance.
var ErrSignature = errors.New("webhook signature does not verify")

// Sign returns the X-Warden-Signature value of body sent at timestamp
// (decimal Unix seconds): "sha256=" and the hex HMAC-SHA256 under secret
// of timestamp + "." + body.
func Sign(secret, timestamp string, body []byte) string {
	return signaturePrefix + hex.EncodeToString(mac(secret, timestamp, body))
}

func mac(secret, timestamp string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(timestamp))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks a delivery as a receiver gets it: timestamp and signature
// are the X-Warden-Timestamp and X-Warden-Signature headers, body the raw
// request body. It refuses a timestamp more than tolerance from now, either
// way, and compares the signature in constant time. Every refusal wraps
// ErrSignature.
func Verify(secret, timestamp string, body []byte, signature string, now time.Time, tolerance time.Duration) error {
	ts, err := parseTimestamp(timestamp)
	if err != nil {
		return fmt.Errorf("verify webhook: timestamp: %w", err)
	}
	hexSig, ok := strings.CutPrefix(signature, signaturePrefix)
	if !ok || len(hexSig) != 2*sha256.Size || strings.ToLower(hexSig) != hexSig {
		return fmt.Errorf("verify webhook: signature is not sha256=<64 lower-case hex digits>: %w", ErrSignature)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return fmt.Errorf("verify webhook: signature is not sha256=<64 lower-case hex digits>: %w", ErrSignature)
	}
	if !hmac.Equal(got, mac(secret, timestamp, body)) {
		return fmt.Errorf("verify webhook: signature does not match: %w", ErrSignature)
	}
	// Checked after the MAC, so that only a genuine but stale delivery is
	// told apart from a forged one.
	if d := now.Sub(time.Unix(ts, 0)).Abs(); d > tolerance {
		return fmt.Errorf("verify webhook: timestamp is %s away from now (tolerance %s): %w", d.Truncate(time.Second), tolerance, ErrSignature)
	}
	return nil
}

// parseTimestamp accepts only the canonical form Warden sends: decimal
// digits without sign or leading zeros.
func parseTimestamp(s string) (int64, error) {
	if s == "" || len(s) > 18 || (len(s) > 1 && s[0] == '0') || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("not decimal Unix seconds: %w", ErrSignature)
	}
	ts, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("not decimal Unix seconds: %w", ErrSignature)
	}
	return ts, nil
}
