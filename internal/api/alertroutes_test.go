package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/alerting"
	"github.com/wardenhq/warden/internal/event"
)

// TestAlertRoutesSetting changes the alert_routes setting: a route must
// name receivers the tenant has, a valid change is one setting.changed
// entry, and a receiver a route names cannot be removed.
func TestAlertRoutesSetting(t *testing.T) {
	e := newMonEnv(t)
	s := e.s
	admin := keyIDOf(t, s.admin)
	ops := `{"name":"ops","kind":"webhook","url":"https://hooks.example.com/ops","secret":"` + strings.Repeat("s", 32) + `"}`
	route := `{"name":"page-ops","match":{"severity":["critical"],"agent":"billing-*"},"receivers":["ops"]}`

	s.send(t, "PATCH", "/v1/settings", s.admin, `{"alert_routes":[`+route+`]}`, http.StatusBadRequest)
	e.nothingRecorded(t, "a route naming a receiver the tenant lacks")
	var changed event.SettingChanged
	s.send(t, "PATCH", "/v1/settings", s.admin, `{"receivers":[`+ops+`]}`, http.StatusOK)
	e.recorded(t, event.KindSettingChanged, admin, &changed)

	for _, bad := range []string{
		`{"name":"page-ops","receivers":["pager"]}`,
		`{"name":"page-ops","receivers":["ops","pager"]}`,
		`{"name":"page-ops"}`,
		`{"name":"Page Ops","receivers":["ops"]}`,
		`{"name":"page-ops","match":{"severity":["high"]},"receivers":["ops"]}`,
		`{"name":"page-ops","control":{"effect":"allow"}}`,
		`{"name":"page-ops","receivers":["ops"],"extra":1}`,
	} {
		s.send(t, "PATCH", "/v1/settings", s.admin, `{"alert_routes":[`+bad+`]}`, http.StatusBadRequest)
	}
	s.send(t, "PATCH", "/v1/settings", s.admin, `{"alert_routes":[`+route+`,`+route+`]}`, http.StatusBadRequest)
	e.nothingRecorded(t, "invalid routes")

	r := s.send(t, "PATCH", "/v1/settings", s.admin, `{"alert_routes":[`+route+`]}`, http.StatusOK)
	if !strings.Contains(string(r.body), `"page-ops"`) {
		t.Errorf("PATCH answered %s, want the route", r.body)
	}
	e.recorded(t, event.KindSettingChanged, admin, &changed)
	if len(changed.Changes) != 1 || changed.Changes[0].Field != "alert_routes" {
		t.Fatalf("setting.changed changes %+v, want alert_routes alone", changed.Changes)
	}
	var to []alerting.Route
	b, _ := json.Marshal(changed.Changes[0].To)
	if err := json.Unmarshal(b, &to); err != nil || len(to) != 1 || to[0].Name != "page-ops" || !slices.Equal(to[0].Receivers, []string{"ops"}) {
		t.Errorf("setting.changed to %s (%v), want the route", b, err)
	}
	var st struct {
		AlertRoutes []alerting.Route `json:"alert_routes"`
	}
	if err := json.Unmarshal(s.get(t, "/v1/settings", s.admin, http.StatusOK).body, &st); err != nil || len(st.AlertRoutes) != 1 ||
		st.AlertRoutes[0].Match.Agent != "billing-*" {
		t.Errorf("GET /v1/settings routes = %+v (%v), want page-ops", st.AlertRoutes, err)
	}
	s.send(t, "PATCH", "/v1/settings", s.admin, `{"alert_routes":[`+route+`]}`, http.StatusOK)
	e.nothingRecorded(t, "the same routes again")

	// The receiver the route names stays while the route does.
	s.send(t, "PATCH", "/v1/settings", s.admin, `{"receivers":[]}`, http.StatusBadRequest)
	s.send(t, "PATCH", "/v1/settings", s.admin, `{"receivers":[`+strings.Replace(ops, `"ops"`, `"ops2"`, 1)+`]}`, http.StatusBadRequest)
	e.nothingRecorded(t, "removing a routed receiver")
	if r := s.get(t, "/v1/settings", s.admin, http.StatusOK); !strings.Contains(string(r.body), `"ops"`) || !strings.Contains(string(r.body), `"page-ops"`) {
		t.Errorf("settings after refused removals = %s", r.body)
	}
	// Both may go together.
	s.send(t, "PATCH", "/v1/settings", s.admin, `{"receivers":[],"alert_routes":[]}`, http.StatusOK)
	e.recorded(t, event.KindSettingChanged, admin, &changed)
	if len(changed.Changes) != 2 {
		t.Errorf("removing both: changes %+v, want receivers and alert_routes", changed.Changes)
	}
}
