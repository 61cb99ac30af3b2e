package notify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

func TestReceiverValidate(t *testing.T) {
	ok := webhook("ops", "https://hooks.example.com/warden")
	slack := Receiver{Name: "team.alerts", Kind: KindSlack, URL: "https://hooks.slack.com/services/T0/B0/tok"}
	am := alertmanager("am", "https://alerts.example.com/hook")
	with := func(r Receiver, f func(*Receiver)) Receiver {
		r.Events = append([]string(nil), r.Events...)
		f(&r)
		return r
	}
	tests := []struct {
		name  string
		r     Receiver
		field string // "" means valid
	}{
		{"webhook", ok, ""},
		{"slack", slack, ""},
		{"alertmanager", am, ""},
		{"alertmanager with secret", with(am, func(r *Receiver) { r.Secret = testSecret }), ""},
		{"alertmanager http to loopback", with(am, func(r *Receiver) { r.URL = "http://127.0.0.1:9093/hook" }), ""},
		{"events", with(ok, func(r *Receiver) { r.Events = []string{EventApprovalRequested, EventAlertRaised} }), ""},
		{"http to 127.0.0.1", with(ok, func(r *Receiver) { r.URL = "http://127.0.0.1:8080/hook" }), ""},
		{"http to ::1", with(ok, func(r *Receiver) { r.URL = "http://[::1]:8080/hook" }), ""},
		{"http to localhost", with(ok, func(r *Receiver) { r.URL = "http://localhost/hook" }), ""},
		{"query kept", with(ok, func(r *Receiver) { r.URL = "https://h.example/x?token=abc" }), ""},
		{"name of 64", with(ok, func(r *Receiver) { r.Name = "a" + strings.Repeat("b", 63) }), ""},
		{"name with dot dash underscore", with(ok, func(r *Receiver) { r.Name = "0ps.team-a_b" }), ""},

		{"empty name", with(ok, func(r *Receiver) { r.Name = "" }), "name"},
		{"name of 65", with(ok, func(r *Receiver) { r.Name = "a" + strings.Repeat("b", 64) }), "name"},
		{"upper-case name", with(ok, func(r *Receiver) { r.Name = "Ops" }), "name"},
		{"name starting with dash", with(ok, func(r *Receiver) { r.Name = "-ops" }), "name"},
		{"name with space", with(ok, func(r *Receiver) { r.Name = "ops team" }), "name"},
		{"unknown kind", with(ok, func(r *Receiver) { r.Kind = "pagerduty" }), "kind"},
		{"kind in upper case", with(am, func(r *Receiver) { r.Kind = "Alertmanager" }), "kind"},
		{"empty url", with(ok, func(r *Receiver) { r.URL = "" }), "url"},
		{"relative url", with(ok, func(r *Receiver) { r.URL = "/hook" }), "url"},
		{"http to a name", with(ok, func(r *Receiver) { r.URL = "http://hooks.example.com/hook" }), "url"},
		{"http to a private address", with(ok, func(r *Receiver) { r.URL = "http://10.0.0.1/hook" }), "url"},
		{"http to localhost look-alike", with(ok, func(r *Receiver) { r.URL = "http://localhost.example.com/hook" }), "url"},
		{"ftp", with(ok, func(r *Receiver) { r.URL = "ftp://hooks.example.com/hook" }), "url"},
		{"user info", with(ok, func(r *Receiver) { r.URL = "https://user:pw@hooks.example.com/hook" }), "url"},
		{"fragment", with(ok, func(r *Receiver) { r.URL = "https://hooks.example.com/hook#x" }), "url"},
		{"url too long", with(ok, func(r *Receiver) { r.URL = "https://h.example/" + strings.Repeat("a", MaxURLBytes) }), "url"},
		{"redacted url", with(slack, func(r *Receiver) { r.URL = slack.Redacted().URL }), "url"},
		{"webhook without secret", with(ok, func(r *Receiver) { r.Secret = "" }), "secret"},
		{"short secret", with(ok, func(r *Receiver) { r.Secret = strings.Repeat("x", MinSecretBytes-1) }), "secret"},
		{"redacted secret", with(ok, func(r *Receiver) { r.Secret = RedactedSecret }), "secret"},
		{"secret too long", with(ok, func(r *Receiver) { r.Secret = strings.Repeat("x", MaxSecretBytes+1) }), "secret"},
		{"slack with secret", with(slack, func(r *Receiver) { r.Secret = testSecret }), "secret"},
		{"alertmanager short secret", with(am, func(r *Receiver) { r.Secret = testSecret[:MinSecretBytes-1] }), "secret"},
		{"alertmanager redacted secret", with(am, func(r *Receiver) { r.Secret = RedactedSecret }), "secret"},
		{"alertmanager secret too long", with(am, func(r *Receiver) { r.Secret = strings.Repeat("x", MaxSecretBytes+1) }), "secret"},
		{"alertmanager http to a name", with(am, func(r *Receiver) { r.URL = "http://alerts.example.com/hook" }), "url"},
		{"alertmanager user info", with(am, func(r *Receiver) { r.URL = "https://user:pw@alerts.example.com/hook" }), "url"},
		{"alertmanager redacted url", with(am, func(r *Receiver) { r.URL = "https://alerts.example.com/hook?" + RedactedSecret }), "url"},
		{"unknown event", with(ok, func(r *Receiver) { r.Events = []string{"approval.requsted"} }), "events"},
		{"duplicate event", with(ok, func(r *Receiver) { r.Events = []string{EventAlertRaised, EventAlertRaised} }), "events"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrInvalid) || e.Field != tt.field {
				t.Fatalf("Validate() = %v, want an *Error on field %q wrapping ErrInvalid", err, tt.field)
			}
			if strings.Contains(err.Error(), testSecret[:MinSecretBytes-1]) || strings.Contains(err.Error(), "/hook") || strings.Contains(err.Error(), "tok") {
				t.Errorf("Validate() = %q: shows the secret or the url", err)
			}
		})
	}
}

func TestValidateReceivers(t *testing.T) {
	many := make([]Receiver, MaxReceivers+1)
	for i := range many {
		many[i] = webhook(fmt.Sprintf("r%d", i), "https://h.example/")
	}
	tests := []struct {
		name string
		rs   []Receiver
		want string // substring of the error, "" for nil
	}{
		{"none", nil, ""},
		{"two", []Receiver{webhook("a", "https://h.example/"), webhook("b", "https://h.example/")}, ""},
		{"most", many[:MaxReceivers], ""},
		{"too many", many, "at most 16"},
		{"duplicate", []Receiver{webhook("a", "https://h.example/1"), webhook("a", "https://h.example/2")}, `receiver "a": name: used by another receiver`},
		{"one invalid", []Receiver{webhook("a", "https://h.example/"), webhook("B", "https://h.example/")}, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateReceivers(tt.rs)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalid)) {
				t.Fatalf("ValidateReceivers() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestReceiverWants(t *testing.T) {
	all := webhook("a", "https://h.example/")
	some := all
	some.Events = []string{EventAlertRaised}
	if !all.Wants(EventApprovalRequested) || !some.Wants(EventAlertRaised) || some.Wants(EventApprovalRequested) {
		t.Error("Wants: a receiver without events wants all; one with events only those")
	}
}

func TestRedacted(t *testing.T) {
	tests := []struct {
		name    string
		r       Receiver
		wantURL string
		hidden  []string
	}{
		{"webhook", webhook("a", "https://h.example/hook"), "https://h.example/hook", []string{testSecret}},
		{"webhook with query", webhook("a", "https://h.example/hook?token=qtok123&x=1"), "https://h.example/hook?[redacted]", []string{testSecret, "qtok123"}},
		{"slack", Receiver{Name: "s", Kind: KindSlack, URL: "https://hooks.slack.com/services/T0/B0/slacktok"}, "https://hooks.slack.com/[redacted]", []string{"slacktok", "T0/B0"}},
		{"alertmanager", alertmanager("am", "https://alerts.example/api/alerts"), "https://alerts.example/api/alerts", nil},
		{"alertmanager with secret and query", Receiver{Name: "am", Kind: KindAlertmanager, URL: "https://alerts.example/api/alerts?token=qtok123", Secret: testSecret},
			"https://alerts.example/api/alerts?[redacted]", []string{testSecret, "qtok123"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := tt.r
			orig.Events = []string{EventAlertRaised}
			red := orig.Redacted()
			if red.URL != tt.wantURL {
				t.Errorf("Redacted().URL = %q, want %q", red.URL, tt.wantURL)
			}
			if orig.Secret != "" && red.Secret != RedactedSecret || orig.Secret == "" && red.Secret != "" {
				t.Errorf("Redacted().Secret = %q, want %q if set, else empty", red.Secret, RedactedSecret)
			}
			red.Events[0] = "changed"
			if orig.Events[0] != EventAlertRaised {
				t.Error("Redacted() shares its Events with the original")
			}
			js, _ := json.Marshal(orig.Redacted())
			var logs bytes.Buffer
			slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "receiver", orig)
			shown := map[string]string{
				"json":     string(js),
				"%v":       fmt.Sprintf("%v", orig),
				"%+v":      fmt.Sprintf("%+v", orig),
				"%#v":      fmt.Sprintf("%#v", orig),
				"%s":       fmt.Sprintf("%s", orig),
				"%d":       fmt.Sprintf("%d", orig),
				"%v of &r": fmt.Sprintf("%v", &orig),
				"slice":    fmt.Sprint([]Receiver{orig}),
				"slog":     logs.String(),
			}
			for how, s := range shown {
				for _, h := range tt.hidden {
					if strings.Contains(s, h) {
						t.Errorf("%s shows %q: %s", how, h, s)
					}
				}
			}
			if !strings.Contains(shown["slog"], `"name":"`+orig.Name+`"`) {
				t.Errorf("slog = %s, want the receiver's name", shown["slog"])
			}
		})
	}
}

func TestRestoreSecrets(t *testing.T) {
	prev := []Receiver{
		webhook("hook", "https://h.example/hook?token=qtok"),
		{Name: "chat", Kind: KindSlack, URL: "https://hooks.slack.com/services/T0/B0/slacktok"},
		{Name: "am", Kind: KindAlertmanager, URL: "https://alerts.example/api/alerts?token=amtok", Secret: testSecret},
		alertmanager("am-open", "https://alerts.example/api/alerts"),
	}
	shown := []Receiver{prev[0].Redacted(), prev[1].Redacted(), prev[2].Redacted(), prev[3].Redacted()}
	if got := RestoreSecrets(shown, prev); !reflect.DeepEqual(got, prev) {
		t.Errorf("RestoreSecrets(redacted, prev) = %v, want prev back", got)
	}
	if err := ValidateReceivers(RestoreSecrets(shown, prev)); err != nil {
		t.Errorf("ValidateReceivers(restored) = %v, want nil", err)
	}

	// New values win over stored ones.
	changed := []Receiver{shown[0], shown[1]}
	changed[0].Secret = strings.Repeat("n", 40)
	changed[1].URL = "https://hooks.slack.com/services/T1/B1/other"
	got := RestoreSecrets(changed, prev)
	if got[0].Secret != changed[0].Secret || got[0].URL != prev[0].URL || got[1].URL != changed[1].URL {
		t.Errorf("RestoreSecrets(changed) = %v, want the new secret and url kept", got)
	}

	// A kept secret stays with its host.
	moved := []Receiver{shown[0]}
	moved[0].URL = "https://attacker.example/hook"
	got = RestoreSecrets(moved, prev)
	if got[0].Secret != RedactedSecret {
		t.Errorf("RestoreSecrets(new host) kept the stored secret")
	}
	if err := got[0].Validate(); err == nil {
		t.Error("Validate(placeholder secret) = nil, want an error")
	}

	// Only a receiver of the same name and kind lends its values.
	renamed := []Receiver{shown[0]}
	renamed[0].Name = "other"
	if got := RestoreSecrets(renamed, prev); got[0].Secret != RedactedSecret {
		t.Errorf("RestoreSecrets(renamed) = %v, want the placeholder left", got)
	}
}
