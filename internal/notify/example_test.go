package notify_test

import (
	"io"
	"net/http"
	"time"

	"github.com/wardenhq/warden/internal/notify"
)

// A receiver checks every delivery before trusting it: the raw body, read
// with a limit, is verified against the timestamp and signature headers.
func ExampleVerify() {
	secret := "the receiver's secret, shared with Warden, 32+ bytes"
	handler := func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "read error", http.StatusBadRequest)
			return
		}
		err = notify.Verify(secret, r.Header.Get(notify.HeaderTimestamp), body,
			r.Header.Get(notify.HeaderSignature), time.Now(), notify.DefaultTolerance)
		if err != nil {
			// 401 is permanent: Warden does not retry it.
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		// Deduplicate on r.Header.Get(notify.HeaderDelivery), then decode body.
		w.WriteHeader(http.StatusNoContent)
	}
	http.Handle("/warden", http.HandlerFunc(handler))
}
