package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/alerting"
	"github.com/wardenhq/warden/internal/event"
)

func (e *monEnv) incident(t *testing.T, r *response) *alerting.Incident {
	t.Helper()
	var inc alerting.Incident
	if err := json.Unmarshal(r.body, &inc); err != nil || inc.ID == "" {
		t.Fatalf("answer %s (%v), want an incident", r.body, err)
	}
	return &inc
}

// TestIncidentLifecycle opens an incident on a receipt and an alert, notes
// and links to it, and resolves it: each step one entry; a resolved
// incident takes nothing more.
func TestIncidentLifecycle(t *testing.T) {
	e := newMonEnv(t)
	s, op := e.s, e.operator
	s.pushAndActivate(t, "name: all\nrules: [{id: all, effect: allow}]\n")
	rcpt := s.evaluate(t, s.admin, evalBody("bot-a", "fs.read", "{}"), http.StatusOK).ReceiptID
	rcpt2 := s.evaluate(t, s.admin, evalBody("bot-a", "fs.write", "{}"), http.StatusOK).ReceiptID
	a := s.raise(t, "default", deniesAlert("bot-a", e.clock.Now()))
	a2 := s.raise(t, "default", deniesAlert("bot-a", e.clock.Now().Add(-time.Minute)))
	e.appended(t)

	// Refused openings record nothing and open nothing.
	secret := keySecret(t, s.admin)
	for _, body := range []string{
		`{"title":"billing bot ` + s.admin + `"}`,
		`{}`,
		`{"title":"  "}`,
		`{"title":"` + strings.Repeat("t", alerting.MaxTitleBytes+1) + `"}`,
		`{"title":"x","severity":"urgent"}`,
		`{"title":"x","alerts":["alr_` + strings.Repeat("a", 26) + `"]}`,
		`{"title":"x","alerts":["` + rcpt + `"]}`,
		`{"title":"x","receipts":["rcpt_` + strings.Repeat("a", 26) + `"]}`,
		`{"title":"x","receipts":["` + a.ID + `"]}`,
		`{"title":"x","alerts":["` + a.ID + `", "alr_` + strings.Repeat("b", 26) + `"]}`,
		`{"title":"x","unknown":true}`,
	} {
		r := s.send(t, "POST", "/v1/incidents", op.Key, body, http.StatusBadRequest)
		if strings.Contains(string(r.body), secret) {
			t.Errorf("POST /v1/incidents with a key in the title answered %s, which repeats it", r.body)
		}
	}
	e.nothingRecorded(t, "refused incidents")
	if r := s.get(t, "/v1/incidents", op.Key, http.StatusOK); !strings.Contains(string(r.body), `"incidents":[]`) {
		t.Fatalf("GET /v1/incidents after refusals = %s, want none", r.body)
	}
	if got := e.alert(t, a.ID); got.Incident != "" {
		t.Fatalf("a refused incident marked alert %s with %q", a.ID, got.Incident)
	}

	// Opened, linked to the receipt and the alert (a repeat is one link).
	body := `{"title":"bot-a denies","severity":"critical","alerts":["` + a.ID + `","` + a.ID + `"],"receipts":["` + rcpt + `"]}`
	inc := e.incident(t, s.send(t, "POST", "/v1/incidents", op.Key, body, http.StatusCreated))
	if inc.Status != alerting.IncidentOpen || inc.Title != "bot-a denies" || inc.Severity != alerting.SeverityCritical ||
		inc.OpenedBy != op.ID || !inc.Opened.Equal(e.clock.Now()) || !slices.Equal(inc.Alerts, []string{a.ID}) ||
		!slices.Equal(inc.Receipts, []string{rcpt}) || len(inc.Notes) != 0 {
		t.Errorf("opened %+v", inc)
	}
	var opened event.IncidentOpened
	e.recorded(t, event.KindIncidentOpened, op.ID, &opened)
	if opened.IncidentID != inc.ID || opened.Title != inc.Title || opened.Severity != "critical" ||
		!slices.Equal(opened.Alerts, []string{a.ID}) || !slices.Equal(opened.Receipts, []string{rcpt}) {
		t.Errorf("incident.opened body %+v", opened)
	}
	if got := e.alert(t, a.ID); got.Incident != inc.ID {
		t.Errorf("alert %s names incident %q, want %s", a.ID, got.Incident, inc.ID)
	}
	if def := s.openIncident(t, op.Key, `{"title":"by hand"}`); def.Severity != alerting.SeverityWarning || len(def.Alerts) != 0 {
		t.Errorf("an incident opened by hand = %+v, want severity warning and no links", def)
	}
	e.appended(t)

	// A note.
	e.clock.Advance(time.Minute)
	got := e.incident(t, s.send(t, "POST", "/v1/incidents/"+inc.ID+"/notes", op.Key, `{"text":"rolled back"}`, http.StatusOK))
	if len(got.Notes) != 1 || got.Notes[0].Text != "rolled back" || got.Notes[0].By != op.ID || !got.Notes[0].At.Equal(e.clock.Now()) ||
		!got.Updated.Equal(e.clock.Now()) {
		t.Errorf("after a note: %+v", got)
	}
	var noted event.IncidentNoted
	e.recorded(t, event.KindIncidentNoted, op.ID, &noted)
	if noted != (event.IncidentNoted{IncidentID: inc.ID, Text: "rolled back"}) {
		t.Errorf("incident.noted body %+v", noted)
	}
	if got.Notes[0].Seq != e.mark-1 {
		t.Errorf("the note's seq = %d, want its entry's, %d", got.Notes[0].Seq, e.mark-1)
	}

	// Links: the new alert and receipt are added, those linked already
	// are not repeated.
	got = e.incident(t, s.send(t, "POST", "/v1/incidents/"+inc.ID+"/links", op.Key,
		`{"alerts":["`+a.ID+`","`+a2.ID+`","`+a2.ID+`"],"receipts":["`+rcpt+`","`+rcpt2+`"]}`, http.StatusOK))
	if !slices.Equal(got.Alerts, []string{a.ID, a2.ID}) || !slices.Equal(got.Receipts, []string{rcpt, rcpt2}) {
		t.Errorf("after links: alerts %v, receipts %v", got.Alerts, got.Receipts)
	}
	var linked event.IncidentLinked
	e.recorded(t, event.KindIncidentLinked, op.ID, &linked)
	if linked.IncidentID != inc.ID || !slices.Equal(linked.Alerts, []string{a.ID, a2.ID}) || !slices.Equal(linked.Receipts, []string{rcpt, rcpt2}) {
		t.Errorf("incident.linked body %+v", linked)
	}
	// A link that adds nothing is refused, and records nothing.
	s.send(t, "POST", "/v1/incidents/"+inc.ID+"/links", op.Key, `{"alerts":["`+a2.ID+`"]}`, http.StatusConflict)
	if got := e.incident(t, s.send(t, "GET", "/v1/incidents/"+inc.ID, op.Key, "", http.StatusOK)); !slices.Equal(got.Alerts, []string{a.ID, a2.ID}) {
		t.Errorf("after linking a linked alert again: alerts %v", got.Alerts)
	}
	e.nothingRecorded(t, "linking a linked alert again")
	// An alert belongs to one incident.
	other := e.incident(t, s.send(t, "POST", "/v1/incidents", op.Key, `{"title":"another"}`, http.StatusCreated))
	e.appended(t)
	s.send(t, "POST", "/v1/incidents/"+other.ID+"/links", op.Key, `{"alerts":["`+a2.ID+`"]}`, http.StatusConflict)
	e.nothingRecorded(t, "linking another incident's alert")
	if got := e.alert(t, a2.ID); got.Incident != inc.ID {
		t.Errorf("linked alert %s names incident %q, want %s", a2.ID, got.Incident, inc.ID)
	}

	// Refused changes of the open incident.
	for _, c := range []struct{ suffix, body string }{
		{"/notes", `{"text":"key: ` + s.admin + `"}`},
		{"/notes", `{"text":""}`},
		{"/notes", `{"text":"` + strings.Repeat("n", alerting.MaxCommentBytes+1) + `"}`},
		{"/links", `{}`},
		{"/links", `{"alerts":["alr_` + strings.Repeat("c", 26) + `"]}`},
		{"/links", `{"receipts":["rcpt_` + strings.Repeat("c", 26) + `"]}`},
		{"/links", `{"alerts":["nope"]}`},
		{"/resolve", `{"resolution":"` + s.admin + `"}`},
		{"/resolve", `{}`},
		{"/resolve", ""},
	} {
		r := s.send(t, "POST", "/v1/incidents/"+inc.ID+c.suffix, op.Key, c.body, http.StatusBadRequest)
		if strings.Contains(string(r.body), secret) {
			t.Errorf("POST %s answered %s, which repeats the key", c.suffix, r.body)
		}
	}
	e.nothingRecorded(t, "refused changes")
	r := s.get(t, "/v1/incidents/"+inc.ID, op.Key, http.StatusOK)
	if strings.Contains(string(r.body), secret) {
		t.Errorf("the incident holds the key: %s", r.body)
	}
	if now := e.incident(t, r); len(now.Notes) != 1 || len(now.Alerts) != 2 || len(now.Receipts) != 2 || now.Status != alerting.IncidentOpen {
		t.Errorf("after refused changes: %+v", now)
	}

	// Resolved; then it takes nothing more.
	got = e.incident(t, s.send(t, "POST", "/v1/incidents/"+inc.ID+"/resolve", op.Key, `{"resolution":"rollback held"}`, http.StatusOK))
	if got.Status != alerting.IncidentResolved || got.ResolvedBy != op.ID || got.Resolution != "rollback held" ||
		got.ResolvedAt == nil || !got.ResolvedAt.Equal(e.clock.Now()) {
		t.Errorf("resolved: %+v", got)
	}
	var res event.IncidentResolved
	e.recorded(t, event.KindIncidentResolved, op.ID, &res)
	if res != (event.IncidentResolved{IncidentID: inc.ID, Resolution: "rollback held"}) {
		t.Errorf("incident.resolved body %+v", res)
	}
	for _, c := range []struct{ suffix, body string }{
		{"/notes", `{"text":"late"}`},
		{"/links", `{"receipts":["` + rcpt + `"]}`},
		{"/resolve", `{"resolution":"again"}`},
	} {
		r := s.send(t, "POST", "/v1/incidents/"+inc.ID+c.suffix, op.Key, c.body, http.StatusConflict)
		decodeProblem(t, "POST "+c.suffix+" on a resolved incident", r)
	}
	e.nothingRecorded(t, "changes to a resolved incident")
	if now := e.incident(t, s.get(t, "/v1/incidents/"+inc.ID, op.Key, http.StatusOK)); now.Status != alerting.IncidentResolved || len(now.Notes) != 1 {
		t.Errorf("GET after resolve = %+v", now)
	}
}

// TestIncidentListing filters incidents on their status and pages through
// them, newest first.
func TestIncidentListing(t *testing.T) {
	e := newMonEnv(t)
	s, op := e.s, e.operator.Key
	var ids []string // oldest first
	for i := range 5 {
		ids = append(ids, s.openIncident(t, op, fmt.Sprintf(`{"title":"incident %d"}`, i)).ID)
	}
	for _, i := range []int{1, 3} {
		s.send(t, "POST", "/v1/incidents/"+ids[i]+"/resolve", op, `{"resolution":"done"}`, http.StatusOK)
	}
	list := func(t *testing.T, query string, limit int) []string {
		t.Helper()
		var got []string
		q := fmt.Sprintf("?%slimit=%d", query, limit)
		for range len(ids) + 2 {
			r := s.get(t, "/v1/incidents"+q, op, http.StatusOK)
			var p struct {
				Incidents  []alerting.Incident `json:"incidents"`
				NextCursor string              `json:"next_cursor"`
			}
			if err := json.Unmarshal(r.body, &p); err != nil || p.Incidents == nil || len(p.Incidents) > limit {
				t.Fatalf("GET /v1/incidents%s = %s (%v)", q, r.body, err)
			}
			for _, inc := range p.Incidents {
				got = append(got, inc.ID)
			}
			if p.NextCursor == "" {
				return got
			}
			q = fmt.Sprintf("?%slimit=%d&cursor=%s", query, limit, p.NextCursor)
		}
		t.Fatalf("GET /v1/incidents?%s: more pages than incidents", query)
		return nil
	}
	pick := func(is ...int) []string {
		var out []string
		for _, i := range is {
			out = append(out, ids[i])
		}
		return out
	}
	for _, tc := range []struct {
		query string
		limit int
		want  []string
	}{
		{"", 100, pick(4, 3, 2, 1, 0)},
		{"", 2, pick(4, 3, 2, 1, 0)},
		{"", 1, pick(4, 3, 2, 1, 0)},
		{"status=open&", 2, pick(4, 2, 0)},
		{"status=resolved&", 1, pick(3, 1)},
	} {
		if got := list(t, tc.query, tc.limit); !slices.Equal(got, tc.want) {
			t.Errorf("GET /v1/incidents?%slimit=%d, all pages = %v, want %v", tc.query, tc.limit, got, tc.want)
		}
	}
	for _, q := range []string{"status=closed", "status=acknowledged", "cursor=x", "cursor=0", "limit=0", "limit=1001"} {
		decodeProblem(t, "GET /v1/incidents?"+q, s.get(t, "/v1/incidents?"+q, op, http.StatusBadRequest))
	}
}
