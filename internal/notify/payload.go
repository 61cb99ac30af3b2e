package notify

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// webhookVersion is the format version of the generic webhook body, its
// "v" field. A change that a receiver could notice raises it.
const webhookVersion = 1

// webhookBody is the JSON a generic webhook receives.
type webhookBody struct {
	V int `json:"v"`
	Message
}

// body encodes m as r receives it. Only r's kind and, for Alertmanager,
// whose format names the receiver, r's name matter (see bodyKey).
func body(r Receiver, m Message) ([]byte, error) {
	m.At = m.At.UTC()
	var v any
	switch r.Kind {
	case KindWebhook:
		v = webhookBody{V: webhookVersion, Message: m}
	case KindSlack:
		v = slackPayload(m)
	case KindAlertmanager:
		v = alertmanagerPayload(r.Name, m)
	default:
		return nil, fmt.Errorf("encode message: unknown receiver kind %q", clip(r.Kind, 64))
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode message %s: %w", m.ID, err)
	}
	return b, nil
}

// bodyKey tells apart the receivers whose bodies of one message differ,
// so that Send encodes each body once.
func bodyKey(r Receiver) string {
	if r.Kind == KindAlertmanager {
		return r.Kind + "\x00" + r.Name
	}
	return r.Kind
}

// Slack's limits for Block Kit (https://docs.slack.dev/reference/block-kit/blocks/section-block).
const (
	slackSectionText = 3000
	slackFieldText   = 2000
	slackFieldsPer   = 10
)

// slackBody is the incoming-webhook format: a fallback text for
// notifications and the blocks shown in the channel.
type slackBody struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Fields   []slackText `json:"fields,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

func mrkdwn(s string) slackText { return slackText{Type: "mrkdwn", Text: s} }

// slackPayload renders m as sections: title and text, the fields sorted by
// name (ten to a section, as Slack allows), the link, and a context line
// naming kind, tenant and id. Everything from the message is escaped, so
// content quoted from an agent can neither mention (<!channel>) nor
// disguise a link.
func slackPayload(m Message) slackBody {
	head := "*" + slackEscape(m.Title) + "*"
	if m.Text != "" {
		head += "\n" + slackEscape(m.Text)
	}
	text := mrkdwn(fit(head, slackSectionText))
	blocks := []slackBlock{{Type: "section", Text: &text}}

	keys := slices.Sorted(maps.Keys(m.Fields))
	for chunk := range slices.Chunk(keys, slackFieldsPer) {
		b := slackBlock{Type: "section"}
		for _, k := range chunk {
			b.Fields = append(b.Fields, mrkdwn(fit("*"+slackEscape(k)+"*\n"+slackEscape(m.Fields[k]), slackFieldText)))
		}
		blocks = append(blocks, b)
	}
	if m.Link != "" {
		link := mrkdwn("<" + slackEscape(strings.ReplaceAll(m.Link, "|", "%7C")) + "|Open in Warden>")
		blocks = append(blocks, slackBlock{Type: "section", Text: &link})
	}
	ctx := fmt.Sprintf("%s · tenant %s · %s", m.Kind, slackEscape(m.Tenant), slackEscape(m.ID))
	blocks = append(blocks, slackBlock{Type: "context", Elements: []slackText{mrkdwn(ctx)}})
	return slackBody{Text: fit(slackEscape(m.Title), slackSectionText), Blocks: blocks}
}

// slackEscape escapes the three characters Slack's mrkdwn treats as
// control characters.
var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

// fit cuts s to at most limit characters, ending a cut with "…". It never
// cuts an escape sequence (&amp;) in two.
func fit(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	r := []rune(s)[:limit-1]
	// The longest escape is "&amp;": a '&' among the last four runes
	// without its ';' is a sequence cut in two.
	for i := len(r) - 1; i >= max(0, len(r)-4); i-- {
		if r[i] == ';' {
			break
		}
		if r[i] == '&' {
			r = r[:i]
			break
		}
	}
	return string(r) + "…"
}
