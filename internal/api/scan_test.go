package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/scan"
)

// tokenDetector flags the word TOKEN42 as a secret.
type tokenDetector struct{}

func (tokenDetector) Name() string { return "token" }
func (tokenDetector) Detect(in scan.Input, out []scan.Match) []scan.Match {
	if i := strings.Index(in.Text, "TOKEN42"); i >= 0 {
		out = append(out, scan.Match{Category: "secret.test", Rule: "token", Severity: scan.High, Confidence: 1, Start: i, End: i + 7})
	}
	return out
}

func TestScanRoute(t *testing.T) {
	s := newStack(t, stackOptions{scanner: scan.New(scan.Limits{}, tokenDetector{})})
	post := func(body string, want int) *response {
		t.Helper()
		r := s.do(t, "POST", "/v1/scan", s.admin, strings.NewReader(body), "Content-Type", "application/json")
		if r.status != want {
			t.Fatalf("POST /v1/scan %s = %d %s, want %d", body, r.status, r.body, want)
		}
		return r
	}
	var res scan.Result
	r := post(`{"text":"a TOKEN42 b"}`, http.StatusOK)
	if err := json.Unmarshal(r.body, &res); err != nil || len(res.Findings) != 1 || res.Findings[0].Start != 2 || res.Incomplete {
		t.Fatalf("scan text = %s (%v)", r.body, err)
	}
	if strings.Contains(string(r.body), "TOKEN42") {
		t.Fatalf("the answer repeats the value: %s", r.body)
	}
	r = post(`{"value":{"k":["x","TOKEN42"]},"provenance":"output"}`, http.StatusOK)
	if err := json.Unmarshal(r.body, &res); err != nil || len(res.Findings) != 1 || res.Findings[0].Path != "/k/1" {
		t.Fatalf("scan value = %s (%v)", r.body, err)
	}
	r = post(`{"text":"nothing here"}`, http.StatusOK)
	if !strings.Contains(string(r.body), `"findings":[]`) {
		t.Fatalf("scan without findings = %s", r.body)
	}
	for _, bad := range []string{`{}`, `{"text":"a","value":1}`, `{"text":"a","extra":1}`, `{"text":"a","provenance":"email"}`,
		`{"value":9007199254740993}`, `{"text":"a"} {}`} {
		post(bad, http.StatusBadRequest)
	}
	if r := s.do(t, "POST", "/v1/scan", s.addKey(t, "default", "auditor"), strings.NewReader(`{"text":"x"}`)); r.status != http.StatusForbidden {
		t.Fatalf("auditor POST /v1/scan = %d, want 403", r.status)
	}
}
