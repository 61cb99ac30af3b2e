package notify

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Seeds are under testdata/fuzz/.

func FuzzVerify(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	f.Fuzz(func(t *testing.T, secret, timestamp string, body []byte, signature string) {
		err := Verify(secret, timestamp, body, signature, now, DefaultTolerance)
		if err != nil && !errors.Is(err, ErrSignature) {
			t.Fatalf("Verify() = %v, want nil or ErrSignature", err)
		}
		if err == nil && signature != Sign(secret, timestamp, body) {
			t.Fatalf("Verify accepted %q, which Sign does not make", signature)
		}
		ts, perr := parseTimestamp(timestamp)
		fresh := perr == nil && now.Sub(time.Unix(ts, 0)).Abs() <= DefaultTolerance
		if err := Verify(secret, timestamp, body, Sign(secret, timestamp, body), now, DefaultTolerance); (err == nil) != fresh {
			t.Fatalf("Verify(Sign(...)) = %v, want ok=%v", err, fresh)
		}
	})
}

func FuzzReceiver(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Receiver
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if dec.Decode(&r) != nil {
			return
		}
		err := r.Validate()
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate() = %v, want ErrInvalid", err)
			}
			// A short secret may occur in any text by chance.
			public := r.Name + " " + r.Kind + " " + r.URL + " " + strings.Join(r.Events, " ")
			if len(r.Secret) >= MinSecretBytes && strings.Contains(err.Error(), r.Secret) && !strings.Contains(public, r.Secret) {
				t.Fatalf("Validate() = %q shows the secret", err)
			}
			return
		}
		red := r.Redacted()
		js, _ := json.Marshal(red)
		public := r.Name + " " + r.URL + " " + strings.Join(r.Events, " ")
		if r.Secret != "" && strings.Contains(string(js), r.Secret) && !strings.Contains(public, r.Secret) {
			t.Fatalf("Redacted() = %s shows the secret", js)
		}
		if red.Validate() == nil && !reflect.DeepEqual(red, r) {
			t.Fatalf("Redacted() = %s hides something and is still valid: it must not be storable", js)
		}
		if got := RestoreSecrets([]Receiver{red}, []Receiver{r}); !reflect.DeepEqual(got[0], r) {
			t.Fatalf("RestoreSecrets(Redacted()) = %+v, want %+v", got[0], r)
		}
		if err := ValidateReceivers([]Receiver{r, r}); err == nil {
			t.Fatal("ValidateReceivers(duplicate) = nil")
		}
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	f.Fuzz(func(t *testing.T, v string) {
		if d, ok := parseRetryAfter(v, now); d < 0 || !ok && d != 0 {
			t.Fatalf("parseRetryAfter(%q) = %s, %v", v, d, ok)
		}
	})
}

// FuzzPayload renders arbitrary messages: every body is JSON, Slack's
// stay within its limits and keep the message's text from forming
// mentions or links, and Alertmanager's, for every message kind, hold one
// alert whose labels are all label names, the fixed ones unchanged.
func FuzzPayload(f *testing.F) {
	f.Fuzz(func(t *testing.T, title, text, key, value string) {
		m := testMessage("apr_01")
		m.Title, m.Text, m.Link = title, text, ""
		m.Fields = map[string]string{key: value}
		if m.Validate() != nil {
			return
		}
		if b, err := body(Receiver{Kind: KindWebhook}, m); err != nil || !json.Valid(b) {
			t.Fatalf("webhook body = %s, %v", b, err)
		}
		for _, kind := range Kinds() {
			m := m
			m.Kind = kind
			checkAlertmanagerBody(t, m)
		}
		b, err := body(Receiver{Kind: KindSlack}, m)
		if err != nil {
			t.Fatal(err)
		}
		var s slackBody
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		texts := []string{s.Text}
		for _, bl := range s.Blocks {
			if bl.Text != nil {
				texts = append(texts, bl.Text.Text)
			}
			for _, e := range append(bl.Fields, bl.Elements...) {
				texts = append(texts, e.Text)
			}
		}
		for _, x := range texts {
			if utf8.RuneCountInString(x) > slackSectionText {
				t.Fatalf("slack text of %d characters", utf8.RuneCountInString(x))
			}
			if strings.ContainsAny(x, "<>") {
				t.Fatalf("slack text %q holds < or >", x)
			}
		}
	})
}

func checkAlertmanagerBody(t *testing.T, m Message) {
	t.Helper()
	b, err := body(alertmanager("am", "https://am.example/"), m)
	if err != nil {
		t.Fatalf("alertmanager body(%s) = %v", m.Kind, err)
	}
	var got alertmanagerBody
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("decode alertmanager body %s: %v", b, err)
	}
	if len(got.Alerts) != 1 {
		t.Fatalf("alertmanager body has %d alerts, want 1", len(got.Alerts))
	}
	a := got.Alerts[0]
	for k := range a.Labels {
		if !labelName(k) {
			t.Fatalf("alertmanager label %q is not a label name", k)
		}
	}
	if a.Labels["alertname"] != alertName(m.Kind) || a.Labels["tenant"] != m.Tenant || a.Labels["kind"] != m.Kind {
		t.Fatalf("alertmanager labels = %v, want alertname, tenant and kind of %v", a.Labels, m.LogValue())
	}
	for k, v := range m.Fields {
		switch k {
		case "alertname", "tenant", "kind":
			continue // fixed, checked above
		}
		if got, ok := a.Labels[k]; ok != labelName(k) || ok && utf8.ValidString(v) && got != v {
			t.Fatalf("alertmanager label %q = %q, %v; want it iff a label name, of value %q", k, got, ok, v)
		}
	}
	if want := m.Kind == EventAlertResolved; (a.Status == "resolved") != want || got.Status != a.Status || a.EndsAt.IsZero() == want {
		t.Fatalf("alertmanager status %s (alert %s, ends %s) for kind %s", got.Status, a.Status, a.EndsAt, m.Kind)
	}
}
