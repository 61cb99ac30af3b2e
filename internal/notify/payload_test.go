package notify

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestPayloadGolden pins the bytes receivers get: the webhook format is a
// contract with every receiver that verifies and decodes it.
func TestPayloadGolden(t *testing.T) {
	tests := []struct {
		name string // of the golden file
		kind string
		m    Message
	}{
		{KindWebhook, KindWebhook, testMessage("apr_01")},
		{KindSlack, KindSlack, testMessage("apr_01")},
		{KindAlertmanager, KindAlertmanager, testMessage("apr_01")},
		{"alertmanager-resolved", KindAlertmanager, testAlert(EventAlertResolved, "alt_01")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind := tt.kind
			got, err := body(Receiver{Name: "ops", Kind: kind}, tt.m)
			if err != nil {
				t.Fatalf("body(%s) = %v", kind, err)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, got, "", "  "); err != nil {
				t.Fatalf("body(%s) is not JSON: %v", kind, err)
			}
			pretty.WriteByte('\n')
			file := filepath.Join("testdata", tt.name+".golden.json")
			if *update {
				if err := os.WriteFile(file, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("read golden file (run with -update to create it): %v", err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Errorf("body(%s) =\n%s\nwant (%s)\n%s", kind, pretty.Bytes(), file, want)
			}
		})
	}
}

func TestWebhookBodyRoundTrip(t *testing.T) {
	m := testMessage("apr_01")
	b, err := body(Receiver{Kind: KindWebhook}, m)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		V int `json:"v"`
		Message
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("decode webhook body: %v", err)
	}
	if got.V != 1 || got.Kind != m.Kind || got.ID != m.ID || got.Tenant != m.Tenant || got.Title != m.Title ||
		got.Text != m.Text || got.Link != m.Link || !got.At.Equal(m.At) || len(got.Fields) != len(m.Fields) {
		t.Errorf("webhook body decodes to %+v, want v 1 and %+v", got, m)
	}
}

func TestSlackPayload(t *testing.T) {
	m := testMessage("apr_01")
	m.Title = "Deny <!channel> & <https://evil.example|your bank>"
	m.Fields = map[string]string{}
	for i := range 13 {
		m.Fields[fmt.Sprintf("f%02d", i)] = fmt.Sprintf("v%d", i)
	}
	b, err := body(Receiver{Kind: KindSlack}, m)
	if err != nil {
		t.Fatal(err)
	}
	var got slackBody
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("decode slack body: %v", err)
	}
	escaped := "Deny &lt;!channel&gt; &amp; &lt;https://evil.example|your bank&gt;"
	if got.Text != escaped {
		t.Errorf("text = %q, want %q", got.Text, escaped)
	}
	// title+text, two sections of fields (10 + 3), the link, the context.
	types := []string{}
	for _, bl := range got.Blocks {
		types = append(types, bl.Type)
	}
	if want := "section section section section context"; strings.Join(types, " ") != want {
		t.Fatalf("block types = %v, want %s", types, want)
	}
	if got.Blocks[0].Text == nil || got.Blocks[0].Text.Type != "mrkdwn" || !strings.HasPrefix(got.Blocks[0].Text.Text, "*"+escaped+"*\n") {
		t.Errorf("first block = %+v, want the escaped title in bold and the text", got.Blocks[0])
	}
	if n1, n2 := len(got.Blocks[1].Fields), len(got.Blocks[2].Fields); n1 != 10 || n2 != 3 {
		t.Errorf("fields per section = %d, %d, want 10, 3", n1, n2)
	}
	if f := got.Blocks[1].Fields[0]; f.Type != "mrkdwn" || f.Text != "*f00*\nv0" {
		t.Errorf("first field = %+v, want sorted by name, name in bold", f)
	}
	if l := got.Blocks[3].Text.Text; l != "<"+m.Link+"|Open in Warden>" {
		t.Errorf("link block = %q", l)
	}
	if c := got.Blocks[4].Elements[0].Text; c != "approval.requested · tenant acme · apr_01" {
		t.Errorf("context = %q", c)
	}
	texts := []string{got.Text}
	for _, bl := range got.Blocks {
		if bl.Text != nil {
			texts = append(texts, bl.Text.Text)
		}
		for _, f := range append(bl.Fields, bl.Elements...) {
			texts = append(texts, f.Text)
		}
	}
	for _, text := range texts {
		for _, s := range []string{"<!channel>", "|your bank>"} {
			if strings.Contains(text, s) {
				t.Errorf("slack text %q holds %q unescaped", text, s)
			}
		}
	}
}

func TestFit(t *testing.T) {
	tests := []struct {
		s     string
		limit int
		want  string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"abcdefghijkl", 10, "abcdefghi…"},
		{"abcdef&amp;xyz", 10, "abcdef…"},
		{"abcd&lt;xyz", 10, "abcd&lt;x…"},
		{"ééééééééééé", 10, "ééééééééé…"},
	}
	for _, tt := range tests {
		got := fit(tt.s, tt.limit)
		if got != tt.want || utf8.RuneCountInString(got) > tt.limit {
			t.Errorf("fit(%q, %d) = %q, want %q", tt.s, tt.limit, got, tt.want)
		}
	}
}

func TestMessageValidate(t *testing.T) {
	with := func(f func(*Message)) Message {
		m := testMessage("apr_01")
		f(&m)
		return m
	}
	tests := []struct {
		name  string
		m     Message
		field string
	}{
		{"valid", testMessage("apr_01"), ""},
		{"no link, text or fields", with(func(m *Message) { m.Link, m.Text, m.Fields = "", "", nil }), ""},
		{"unknown kind", with(func(m *Message) { m.Kind = "approval.wanted" }), "message kind"},
		{"no tenant", with(func(m *Message) { m.Tenant = "" }), "message tenant"},
		{"no id", with(func(m *Message) { m.ID = "" }), "message id"},
		{"no title", with(func(m *Message) { m.Title = "" }), "message title"},
		{"long title", with(func(m *Message) { m.Title = strings.Repeat("t", MaxTitleBytes+1) }), "message title"},
		{"long text", with(func(m *Message) { m.Text = strings.Repeat("t", MaxTextBytes+1) }), "message text"},
		{"long field", with(func(m *Message) { m.Fields["x"] = strings.Repeat("v", MaxFieldValueBytes+1) }), "message fields"},
		{"empty field name", with(func(m *Message) { m.Fields[""] = "v" }), "message fields"},
		{"no time", with(func(m *Message) { m.At = time.Time{} }), "message at"},
		{"link not http", with(func(m *Message) { m.Link = "javascript:alert(1)" }), "message link"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			e, ok := err.(*Error)
			if !ok || e.Field != tt.field {
				t.Fatalf("Validate() = %v, want an *Error on %q", err, tt.field)
			}
		})
	}
}
