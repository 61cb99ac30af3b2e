package notify

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"
)

// amBody is Alertmanager's webhook body, version 4, as a receiver written
// for Alertmanager decodes it. It is declared apart from the encoder's
// types so that these tests pin the wire format, not the encoder's idea
// of it.
type amBody struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []amAlert         `json:"alerts"`
}

type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// decodeAlertmanager decodes a delivery's body strictly: every field of
// the format present, no other, nothing after the object.
func decodeAlertmanager(t *testing.T, b []byte) amBody {
	t.Helper()
	var top struct {
		Alerts []map[string]json.RawMessage `json:"alerts"`
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		t.Fatalf("alertmanager body is not a JSON object: %v\n%s", err, b)
	}
	if err := json.Unmarshal(b, &top); err != nil {
		t.Fatalf("alertmanager body alerts: %v\n%s", err, b)
	}
	want := []string{"alerts", "commonAnnotations", "commonLabels", "externalURL", "groupKey", "groupLabels",
		"receiver", "status", "truncatedAlerts", "version"}
	if got := slices.Sorted(maps.Keys(keys)); !slices.Equal(got, want) {
		t.Errorf("alertmanager body fields = %v, want %v", got, want)
	}
	wantAlert := []string{"annotations", "endsAt", "fingerprint", "generatorURL", "labels", "startsAt", "status"}
	for i, a := range top.Alerts {
		if got := slices.Sorted(maps.Keys(a)); !slices.Equal(got, wantAlert) {
			t.Errorf("alert %d fields = %v, want %v", i, got, wantAlert)
		}
	}
	var got amBody
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("decode alertmanager body: %v\n%s", err, b)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		t.Fatalf("alertmanager body has data after the object: %v", err)
	}
	return got
}

func TestAlertmanagerDelivery(t *testing.T) {
	srv := newServer(t, status(http.StatusOK))
	h := newHarness(t, Config{}, nil)
	// Two receivers of one message: the body names each.
	rs := []Receiver{alertmanager("am-a", srv.URL+"/api/alerts"), alertmanager("am-b", srv.URL+"/api/alerts")}
	m := testAlert(EventAlertRaised, "alt_01")
	if err := h.d.Send(t.Context(), rs, m); err != nil {
		t.Fatalf("Send() = %v", err)
	}
	for range rs {
		if res := h.results.next(t); !res.Delivered || res.Attempts != 1 || res.Reason != ReasonDelivered {
			t.Errorf("Result = %+v, want delivered at the first attempt", res)
		}
	}

	got := map[string]amBody{}
	for _, req := range srv.requests() {
		for k, v := range map[string]string{"Content-Type": "application/json", HeaderEvent: EventAlertRaised, HeaderTimestamp: "", HeaderSignature: ""} {
			if got := req.header.Get(k); got != v {
				t.Errorf("header %s = %q, want %q", k, got, v)
			}
		}
		if req.header.Get(HeaderDelivery) == "" {
			t.Errorf("header %s is missing", HeaderDelivery)
		}
		// Alertmanager's time format, to the byte.
		for _, s := range []string{`"startsAt":"2026-03-01T12:00:00Z"`, `"endsAt":"0001-01-01T00:00:00Z"`} {
			if !bytes.Contains(req.body, []byte(s)) {
				t.Errorf("body lacks %s:\n%s", s, req.body)
			}
		}
		b := decodeAlertmanager(t, req.body)
		got[b.Receiver] = b
	}

	labels := map[string]string{
		"alertname": "WardenAlert", "tenant": "acme", "kind": EventAlertRaised,
		"agent": "billing-bot", "metric": "error_rate", "severity": "critical", "detector": "threshold",
	}
	annotations := map[string]string{"summary": m.Title, "description": m.Text, "warden_id": "alt_01"}
	for _, name := range []string{"am-a", "am-b"} {
		want := amBody{
			Version:           "4",
			GroupKey:          `{}:{tenant="acme", warden_id="alt_01"}`,
			TruncatedAlerts:   0,
			Status:            "firing",
			Receiver:          name,
			GroupLabels:       map[string]string{"tenant": "acme"},
			CommonLabels:      labels,
			CommonAnnotations: annotations,
			ExternalURL:       "",
			Alerts: []amAlert{{
				Status:       "firing",
				Labels:       labels,
				Annotations:  annotations,
				StartsAt:     testNow,
				EndsAt:       time.Time{},
				GeneratorURL: "https://warden.example/alerts/alt_01",
				Fingerprint:  "c4a057297d771d5a",
			}},
		}
		if !reflect.DeepEqual(got[name], want) {
			t.Errorf("delivery to %s =\n%+v\nwant\n%+v", name, got[name], want)
		}
	}
}

func TestAlertmanagerResolved(t *testing.T) {
	srv := newServer(t, status(http.StatusOK))
	h := newHarness(t, Config{}, nil)
	raised := testAlert(EventAlertRaised, "alt_01")
	resolved := testAlert(EventAlertResolved, "alt_01")
	resolved.At = testNow.Add(10 * time.Minute)
	rs := []Receiver{alertmanager("am", srv.URL)}
	for _, m := range []Message{raised, resolved} {
		if err := h.d.Send(t.Context(), rs, m); err != nil {
			t.Fatalf("Send(%s) = %v", m.Kind, err)
		}
		if res := h.results.next(t); !res.Delivered {
			t.Fatalf("Result = %+v, want delivered", res)
		}
	}
	reqs := srv.requests()
	first, last := decodeAlertmanager(t, reqs[0].body), decodeAlertmanager(t, reqs[1].body)
	if !bytes.Contains(reqs[1].body, []byte(`"endsAt":"2026-03-01T12:10:00Z"`)) {
		t.Errorf("resolved body lacks endsAt 2026-03-01T12:10:00Z:\n%s", reqs[1].body)
	}
	a := last.Alerts[0]
	if last.Status != "resolved" || a.Status != "resolved" {
		t.Errorf("resolved status = %q, alert %q, want resolved", last.Status, a.Status)
	}
	if !a.EndsAt.Equal(resolved.At) || !a.StartsAt.Equal(resolved.At) {
		t.Errorf("resolved alert starts %s, ends %s, want both %s", a.StartsAt, a.EndsAt, resolved.At)
	}
	if a.Labels["kind"] != EventAlertResolved {
		t.Errorf("resolved label kind = %q, want %s", a.Labels["kind"], EventAlertResolved)
	}
	// What pairs the resolution with its alert.
	r := first.Alerts[0]
	if a.Fingerprint != r.Fingerprint || last.GroupKey != first.GroupKey || a.Labels["alertname"] != r.Labels["alertname"] {
		t.Errorf("resolved fingerprint %s, group %s, alertname %s; want the raised alert's %s, %s, %s",
			a.Fingerprint, last.GroupKey, a.Labels["alertname"], r.Fingerprint, first.GroupKey, r.Labels["alertname"])
	}
	if first.Status != "firing" || !r.EndsAt.IsZero() {
		t.Errorf("raised status %q, ends %s; want firing, not ended", first.Status, r.EndsAt)
	}
}

func TestAlertmanagerLabels(t *testing.T) {
	m := testAlert(EventAlertRaised, "alt_01")
	m.Fields = map[string]string{
		"agent": "billing-bot", "_private": "x", "Rule9": "y",
		"bad-key": "v", "with space": "v", "9lives": "v", "a.b": "v", "naïve": "v", "__name__": "v",
		"alertname": "Spoofed", "tenant": "other", "kind": "other",
	}
	b, err := body(alertmanager("am", "https://am.example/"), m)
	if err != nil {
		t.Fatal(err)
	}
	got := decodeAlertmanager(t, b)
	want := map[string]string{
		"alertname": "WardenAlert", "tenant": "acme", "kind": EventAlertRaised,
		"agent": "billing-bot", "_private": "x", "Rule9": "y",
	}
	if !reflect.DeepEqual(got.Alerts[0].Labels, want) || !reflect.DeepEqual(got.CommonLabels, want) {
		t.Errorf("labels = %v, common %v; want %v", got.Alerts[0].Labels, got.CommonLabels, want)
	}
}

func TestAlertmanagerDescriptionOptional(t *testing.T) {
	m := testMessage("apr_01")
	m.Text = ""
	b, err := body(alertmanager("am", "https://am.example/"), m)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"summary": m.Title, "warden_id": "apr_01"}
	if got := decodeAlertmanager(t, b); !reflect.DeepEqual(got.Alerts[0].Annotations, want) {
		t.Errorf("annotations = %v, want %v", got.Alerts[0].Annotations, want)
	}
}

func TestLabelName(t *testing.T) {
	tests := []struct {
		k  string
		ok bool
	}{
		{"agent", true}, {"_x", true}, {"A1_b", true}, {"_", true},
		{"", false}, {"1a", false}, {"bad-key", false}, {"with space", false}, {"a.b", false},
		{"naïve", false}, {"__name__", false}, {"__", false}, {"a\x00", false},
	}
	for _, tt := range tests {
		if got := labelName(tt.k); got != tt.ok {
			t.Errorf("labelName(%q) = %v, want %v", tt.k, got, tt.ok)
		}
	}
}

func TestAlertName(t *testing.T) {
	want := map[string]string{
		EventAlertRaised:       "WardenAlert",
		EventAlertResolved:     "WardenAlert",
		EventApprovalRequested: "WardenApprovalRequested",
		EventApprovalResolved:  "WardenApprovalResolved",
		EventTest:              "WardenNotifyTest",
	}
	for _, kind := range Kinds() {
		if got := alertName(kind); got != want[kind] {
			t.Errorf("alertName(%s) = %q, want %q", kind, got, want[kind])
		}
	}
}

func TestAlertFingerprint(t *testing.T) {
	// Computed independently with: printf
	// 'warden.alertmanager.fingerprint.v1\n4:acme6:alt_01' | sha256sum | cut -c1-16
	if got, want := alertFingerprint("acme", "alt_01"), "c4a057297d771d5a"; got != want {
		t.Errorf(`alertFingerprint("acme", "alt_01") = %s, want %s`, got, want)
	}
	if alertFingerprint("ab", "c") == alertFingerprint("a", "bc") {
		t.Error("alertFingerprint: (ab, c) and (a, bc) share a fingerprint")
	}
}

func TestAlertmanagerSignature(t *testing.T) {
	tests := []struct {
		name   string
		secret string
	}{
		{"without secret", ""},
		{"with secret", testSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, status(http.StatusOK))
			h := newHarness(t, Config{}, nil)
			r := alertmanager("am", srv.URL)
			r.Secret = tt.secret
			if err := h.d.Send(t.Context(), []Receiver{r}, testAlert(EventAlertRaised, "alt_01")); err != nil {
				t.Fatalf("Send() = %v", err)
			}
			if res := h.results.next(t); !res.Delivered {
				t.Fatalf("Result = %+v, want delivered", res)
			}
			req := srv.requests()[0]
			ts, sig := req.header.Get(HeaderTimestamp), req.header.Get(HeaderSignature)
			if tt.secret == "" {
				if ts != "" || sig != "" {
					t.Errorf("unsigned delivery has %s %q, %s %q; want neither", HeaderTimestamp, ts, HeaderSignature, sig)
				}
				return
			}
			if ts != strconv.FormatInt(testNow.Unix(), 10) {
				t.Errorf("header %s = %q, want %d", HeaderTimestamp, ts, testNow.Unix())
			}
			if err := Verify(tt.secret, ts, req.body, sig, testNow, DefaultTolerance); err != nil {
				t.Errorf("Verify(delivery) = %v, want nil", err)
			}
			decodeAlertmanager(t, req.body)
		})
	}
}

func TestAlertmanagerRetry(t *testing.T) {
	srv := newServer(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	h := newHarness(t, Config{}, nil)
	r := alertmanager("am", srv.URL)
	r.Secret = testSecret
	if err := h.d.Send(t.Context(), []Receiver{r}, testAlert(EventAlertRaised, "alt_01")); err != nil {
		t.Fatal(err)
	}
	res := h.results.next(t)
	if !res.Delivered || res.Attempts != 2 || res.Status != http.StatusOK || res.Reason != ReasonDelivered || res.Err != "" {
		t.Errorf("Result = %+v, want delivered at attempt 2", res)
	}
	reqs := srv.requests()
	if len(reqs) != 2 {
		t.Fatalf("receiver got %d requests, want 2", len(reqs))
	}
	if reqs[0].header.Get(HeaderDelivery) != reqs[1].header.Get(HeaderDelivery) || !bytes.Equal(reqs[0].body, reqs[1].body) {
		t.Error("the retry differs from the first attempt in delivery id or body")
	}
	for i, req := range reqs {
		if err := Verify(testSecret, req.header.Get(HeaderTimestamp), req.body, req.header.Get(HeaderSignature), testNow, DefaultTolerance); err != nil {
			t.Errorf("attempt %d: Verify() = %v, want nil", i+1, err)
		}
	}
}
