package notify

import (
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"time"
)

// Message kinds: what a receiver may subscribe to in Receiver.Events. A
// new kind is added here, so that a receiver naming an unknown one is
// refused rather than silently never notified.
const (
	// EventApprovalRequested: a decision requires approval and waits for votes.
	EventApprovalRequested = "approval.requested"
	// EventApprovalResolved: an approval was granted, rejected or expired.
	EventApprovalResolved = "approval.resolved"
	// EventAlertRaised: the monitor raised an alert.
	EventAlertRaised = "alert.raised"
	// EventAlertResolved: an alert was resolved.
	EventAlertResolved = "alert.resolved"
	// EventTest: a test message an operator sends to check a receiver.
	EventTest = "notify.test"
)

var kinds = []string{EventApprovalRequested, EventApprovalResolved, EventAlertRaised, EventAlertResolved, EventTest}

// Kinds returns every message kind, sorted.
func Kinds() []string {
	k := slices.Clone(kinds)
	slices.Sort(k)
	return k
}

func knownKind(k string) bool { return slices.Contains(kinds, k) }

// Limits of a message, so that every payload is bounded.
const (
	MaxTitleBytes      = 256
	MaxTextBytes       = 4096
	MaxFields          = 24
	MaxFieldKeyBytes   = 64
	MaxFieldValueBytes = 1024
	maxIDBytes         = 128
)

// Message is one notification. A generic webhook receives it as JSON
// (with a format version "v": 1); Slack receives it rendered as blocks.
// Text and field values may quote agent content: producers MUST put only
// redacted content in a message, as in the ledger.
type Message struct {
	// Kind is one of the Event* constants.
	Kind string `json:"kind"`
	// Tenant is the tenant the message is about.
	Tenant string `json:"tenant"`
	// ID is the id of what the message is about (an approval, an alert).
	ID string `json:"id"`
	// Title is a one-line summary.
	Title string `json:"title"`
	// Text is an optional longer description.
	Text string `json:"text,omitempty"`
	// Fields are named details (agent, action, rule, ...).
	Fields map[string]string `json:"fields,omitempty"`
	// Link optionally points at the object in Warden's dashboard or API.
	Link string `json:"link,omitempty"`
	// At is when the event happened.
	At time.Time `json:"at"`
}

// Validate reports the first problem of m.
func (m Message) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &Error{Field: "message " + field, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case !knownKind(m.Kind):
		return bad("kind", "unknown kind %q", clip(m.Kind, 64))
	case m.Tenant == "" || len(m.Tenant) > maxIDBytes:
		return bad("tenant", "must have 1 to %d bytes", maxIDBytes)
	case m.ID == "" || len(m.ID) > maxIDBytes:
		return bad("id", "must have 1 to %d bytes", maxIDBytes)
	case m.Title == "" || len(m.Title) > MaxTitleBytes:
		return bad("title", "must have 1 to %d bytes", MaxTitleBytes)
	case len(m.Text) > MaxTextBytes:
		return bad("text", "at most %d bytes", MaxTextBytes)
	case len(m.Fields) > MaxFields:
		return bad("fields", "at most %d", MaxFields)
	case m.At.IsZero():
		return bad("at", "is required")
	}
	for k, v := range m.Fields {
		if k == "" || len(k) > MaxFieldKeyBytes {
			return bad("fields", "keys must have 1 to %d bytes", MaxFieldKeyBytes)
		}
		if len(v) > MaxFieldValueBytes {
			return bad("fields", "%q: at most %d bytes", k, MaxFieldValueBytes)
		}
	}
	if m.Link != "" {
		u, err := url.Parse(m.Link)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(m.Link) > MaxURLBytes {
			return bad("link", "must be an absolute http(s) URL of at most %d bytes", MaxURLBytes)
		}
	}
	return nil
}

// LogValue logs the message's kind, tenant and id, never its content.
func (m Message) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kind", m.Kind), slog.String("tenant", m.Tenant), slog.String("id", m.ID))
}

var _ slog.LogValuer = Message{}
