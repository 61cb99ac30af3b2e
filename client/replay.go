package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Replay and the shadow report answer one question about a policy
// version that is not active: which recorded decisions would it have
// decided otherwise? Replay evaluates the version on the stored requests
// of a time range; the shadow report tallies what the tenant's candidate
// decided live, beside the active policy.

// ReplayQuery asks for a replay of a policy version over the recorded
// decisions whose time is in [From, To). A zero From or To leaves that end
// open (the start or the end of the log).
type ReplayQuery struct {
	Name    string
	Version int64
	From    time.Time
	To      time.Time
	// Examples bounds the example flips answered (<= 0: the server's
	// default).
	Examples int
}

// ReplayResult is the answer of a replay or a shadow report: the version
// compared and the seq range [FromSeq, ToSeq) of the log that was read.
type ReplayResult struct {
	Policy  ReplayPolicy `json:"policy"`
	FromSeq int64        `json:"from_seq"`
	ToSeq   int64        `json:"to_seq"`
	Report  ReplayReport `json:"report"`
}

// ReplayPolicy names the policy version a report compares with the
// policies that decided.
type ReplayPolicy struct {
	Name    string `json:"name"`
	Version int64  `json:"version"`
}

// ReplayReport tallies the comparison. Decisions counts every decision
// read; Compared, those whose recorded policy's own effect is known
// (Skipped, by SkippedBy reason, are those decided by something else: a
// kill switch, a limit, a session rule); Changed, the compared ones the
// version decides otherwise, ChangedRedacted of them on input whose
// findings were redacted. The By maps count the changes by "from->to",
// by rule (or "(default)", "(error)", "scan:<selector>"), by action type
// and by agent. Errors is the compared decisions the version could not
// evaluate (it denied them); Invalid, those that could not be rebuilt
// into a request.
type ReplayReport struct {
	Decisions       int            `json:"decisions"`
	Compared        int            `json:"compared"`
	Skipped         int            `json:"skipped"`
	SkippedBy       map[string]int `json:"skipped_by"`
	Changed         int            `json:"changed"`
	ChangedRedacted int            `json:"changed_redacted"`
	ByTransition    map[string]int `json:"by_transition"`
	ByRule          map[string]int `json:"by_rule"`
	ByAction        map[string]int `json:"by_action"`
	ByAgent         map[string]int `json:"by_agent"`
	// Examples are the changed decisions of lowest seq, in seq order.
	Examples []ReplayFlip `json:"examples"`
	Errors   int          `json:"errors"`
	Invalid  int          `json:"invalid"`
}

// ReplayFlip is one recorded decision the version decides otherwise:
// From is the recorded policy's effect, To the version's, Rules what
// explains the difference. Redacted is set when the version saw less than
// the recorded policy did (redacted or unrecorded args).
type ReplayFlip struct {
	Seq       int64    `json:"seq"`
	ReceiptID string   `json:"receipt_id"`
	Agent     string   `json:"agent"`
	Action    string   `json:"action"`
	From      string   `json:"from"`
	To        string   `json:"to"`
	Rules     []string `json:"rules"`
	Redacted  bool     `json:"redacted,omitempty"`
}

// Replay evaluates a pushed policy version (active or not) against the
// tenant's recorded decisions of a time range and reports what it would
// have decided otherwise. A version that does not exist is an *Error with
// status 404; a range too large for one request, one with status 400.
func (c *Client) Replay(ctx context.Context, q ReplayQuery) (*ReplayResult, error) {
	body := struct {
		Name     string `json:"name"`
		Version  int64  `json:"version"`
		From     string `json:"from,omitempty"`
		To       string `json:"to,omitempty"`
		Examples int    `json:"examples,omitempty"`
	}{Name: q.Name, Version: q.Version, From: rfc3339(q.From), To: rfc3339(q.To), Examples: max(q.Examples, 0)}
	var out ReplayResult
	if err := c.sendJSON(ctx, http.MethodPost, "/v1/policies/replay", nil, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ShadowReport tallies the tenant's candidate's shadow decisions of
// [from, to) (zero: open) against the policies that decided them, with
// at most examples example flips (<= 0: the server's default). Without a
// candidate it is an *Error with status 404.
func (c *Client) ShadowReport(ctx context.Context, from, to time.Time, examples int) (*ReplayResult, error) {
	q := url.Values{}
	if s := rfc3339(from); s != "" {
		q.Set("from", s)
	}
	if s := rfc3339(to); s != "" {
		q.Set("to", s)
	}
	if examples > 0 {
		q.Set("examples", strconv.Itoa(examples))
	}
	var out ReplayResult
	if err := c.getJSON(ctx, "/v1/policies/shadow/report", q, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// rfc3339 spells t as the API reads times, or "" for the zero time.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
