// Package client is the Go client of Warden's HTTP API.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultURL is where a local `warden serve` listens.
const DefaultURL = "http://127.0.0.1:8470"

// maxResponse bounds what the client reads from one response.
const maxResponse = 64 << 20

// Client calls one Warden server with one API key.
type Client struct {
	base   *url.URL
	key    string
	tenant string
	hc     *http.Client
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient replaces the default HTTP client (30 s timeout).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithTenant makes an owner key act on the named tenant (?tenant=).
func WithTenant(tenant string) Option { return func(c *Client) { c.tenant = tenant } }

// New returns a client for the server at baseURL using key.
func New(baseURL, key string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: %q is not an http(s) URL", baseURL)
	}
	c := &Client{base: u, key: key, hc: &http.Client{Timeout: 30 * time.Second}}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Error is a problem+json answer of the server.
type Error struct {
	Status    int    `json:"status"`
	Type      string `json:"type"`
	Title     string `json:"title"`
	Detail    string `json:"detail"`
	RequestID string `json:"request_id"`
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("warden: %d %s", e.Status, e.Title)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.RequestID != "" {
		msg += " (request " + e.RequestID + ")"
	}
	return msg
}

func (c *Client) do(ctx context.Context, method, path string, q url.Values, body io.Reader) ([]byte, error) {
	_, b, err := c.send(ctx, method, path, q, body, "application/json")
	return b, err
}

// send makes one request and returns the status and body of a success, or
// an *Error for a problem answer.
func (c *Client) send(ctx context.Context, method, path string, q url.Values, body io.Reader, contentType string) (int, []byte, error) {
	if c.tenant != "" {
		if q == nil {
			q = url.Values{}
		}
		q.Set("tenant", c.tenant)
	}
	// path is escaped already (ids in it went through url.PathEscape).
	u := *c.base
	raw := c.base.EscapedPath() + path
	plain, err := url.PathUnescape(raw)
	if err != nil {
		return 0, nil, fmt.Errorf("warden %s %s: %w", method, path, err)
	}
	u.Path, u.RawPath = plain, raw
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return 0, nil, fmt.Errorf("warden %s %s: %w", method, path, err)
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("warden %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return 0, nil, fmt.Errorf("warden %s %s: read: %w", method, path, err)
	}
	if len(b) > maxResponse {
		return 0, nil, fmt.Errorf("warden %s %s: response larger than %d bytes", method, path, maxResponse)
	}
	if resp.StatusCode >= 300 {
		e := &Error{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode)}
		_ = json.Unmarshal(b, e)
		e.Status = resp.StatusCode
		return 0, nil, e
	}
	return resp.StatusCode, b, nil
}

func (c *Client) getJSON(ctx context.Context, path string, q url.Values, v any) error {
	b, err := c.do(ctx, http.MethodGet, path, q, nil)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("warden GET %s: decode: %w", path, err)
	}
	return nil
}

// Checkpoint returns the latest signed checkpoint note of the tenant's log.
func (c *Client) Checkpoint(ctx context.Context) ([]byte, error) {
	return c.do(ctx, http.MethodGet, "/v1/log/checkpoint", nil, nil)
}

// CheckpointAt returns the stored signed checkpoint of exactly size.
func (c *Client) CheckpointAt(ctx context.Context, size int64) ([]byte, error) {
	return c.do(ctx, http.MethodGet, "/v1/log/checkpoint", url.Values{"size": {strconv.FormatInt(size, 10)}}, nil)
}

// VerifierKey returns the server's checkpoint verifier key. A verifier
// that takes it from the server it verifies trusts that server: auditors
// pass their own copy instead.
func (c *Client) VerifierKey(ctx context.Context) (string, error) {
	b, err := c.do(ctx, http.MethodGet, "/v1/log/key", nil, nil)
	return strings.TrimSpace(string(b)), err
}

// Entry is one served ledger entry: Entry's canonical JSON encoding is the
// hashed entry, whose leaf hash is LeafHash (base64).
type Entry struct {
	Seq      int64           `json:"seq"`
	LeafHash string          `json:"leaf_hash"`
	Entry    json.RawMessage `json:"entry"`
	// Pruned marks an entry whose data was pruned under retention: Entry
	// is null and LeafHash the stored leaf hash.
	Pruned bool `json:"pruned,omitempty"`
}

// EntryPage is one page of entries.
type EntryPage struct {
	Entries    []Entry `json:"entries"`
	NextCursor string  `json:"next_cursor"`
}

// Entries lists entries with seq in [from, to) (to < 0: to the end),
// continuing at cursor if it is not empty.
func (c *Client) Entries(ctx context.Context, from, to int64, cursor string, limit int) (*EntryPage, error) {
	q := url.Values{}
	q.Set("from", strconv.FormatInt(from, 10))
	if to >= 0 {
		q.Set("to", strconv.FormatInt(to, 10))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var p EntryPage
	return &p, c.getJSON(ctx, "/v1/log/entries", q, &p)
}

// GetEntry returns the entry at seq.
func (c *Client) GetEntry(ctx context.Context, seq int64) (*Entry, error) {
	var e Entry
	return &e, c.getJSON(ctx, "/v1/log/entries/"+strconv.FormatInt(seq, 10), nil, &e)
}

// InclusionProof proves an entry is in the tree of a size.
type InclusionProof struct {
	Seq   int64    `json:"seq"`
	Size  int64    `json:"size"`
	Proof []string `json:"proof"`
}

// GetInclusionProof asks for the inclusion proof of seq in the tree of
// size (size <= 0: the latest checkpoint's).
func (c *Client) GetInclusionProof(ctx context.Context, seq, size int64) (*InclusionProof, error) {
	q := url.Values{"seq": {strconv.FormatInt(seq, 10)}}
	if size > 0 {
		q.Set("size", strconv.FormatInt(size, 10))
	}
	var p InclusionProof
	return &p, c.getJSON(ctx, "/v1/log/proof/inclusion", q, &p)
}

// ConsistencyProof proves the tree of size From is a prefix of size To.
type ConsistencyProof struct {
	From  int64    `json:"from"`
	To    int64    `json:"to"`
	Proof []string `json:"proof"`
}

// GetConsistencyProof asks for the proof from size from to size to (to <=
// 0: the latest checkpoint's).
func (c *Client) GetConsistencyProof(ctx context.Context, from, to int64) (*ConsistencyProof, error) {
	q := url.Values{"from": {strconv.FormatInt(from, 10)}}
	if to > 0 {
		q.Set("to", strconv.FormatInt(to, 10))
	}
	var p ConsistencyProof
	return &p, c.getJSON(ctx, "/v1/log/proof/consistency", q, &p)
}

// VerifyLog asks the server to verify the tenant's whole log and returns
// its report as JSON.
func (c *Client) VerifyLog(ctx context.Context) (json.RawMessage, error) {
	b, err := c.do(ctx, http.MethodPost, "/v1/log/verify", nil, strings.NewReader("{}"))
	return json.RawMessage(b), err
}

// Answer is a decision's answer.
type Answer struct {
	Decision  string          `json:"decision"`
	Reasons   []Reason        `json:"reasons"`
	ReceiptID string          `json:"receipt_id"`
	Seq       int64           `json:"seq"`
	LeafHash  string          `json:"leaf_hash"`
	Findings  json.RawMessage `json:"findings,omitempty"`
	// ArgsRedacted is the request's args as the policy's redact_args
	// shows them, when a finding it names was found.
	ArgsRedacted json.RawMessage `json:"args_redacted,omitempty"`
	// ApprovalID is the approval request a require_approval decision
	// opened, or the one whose authorization allowed this request.
	ApprovalID string `json:"approval_id,omitempty"`
	// RetryAfterMS is when a rate_limited request may succeed.
	RetryAfterMS int64 `json:"retry_after_ms,omitempty"`
	// Shadow is what the tenant's candidate policy would have decided, if
	// it has one; it never changes Decision.
	Shadow *Shadow `json:"shadow,omitempty"`
}

// Shadow is a candidate policy's decision of a request.
type Shadow struct {
	Decision string   `json:"decision"`
	Reasons  []Reason `json:"reasons"`
}

// Reason explains part of a decision.
type Reason struct {
	Code    string `json:"code"`
	Rule    string `json:"rule,omitempty"`
	Message string `json:"message"`
}

// Evaluate asks for a decision; request is the JSON body of section 2 of
// the design (principal, action, args, context).
func (c *Client) Evaluate(ctx context.Context, request []byte) (*Answer, error) {
	return c.EvaluateWith(ctx, request, "")
}

// EvaluateWith is Evaluate presenting the authorization of an approved
// request (Approval.Authorization), which allows that exact request once
// where the policy requires approval. A non-empty authorization replaces
// any the request carries; request must then be a JSON object.
func (c *Client) EvaluateWith(ctx context.Context, request []byte, authorization string) (*Answer, error) {
	if authorization != "" {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(request, &fields); err != nil || fields == nil {
			return nil, errors.New("warden POST /v1/evaluate: the request is not a JSON object")
		}
		tok, err := json.Marshal(authorization)
		if err != nil {
			return nil, fmt.Errorf("warden POST /v1/evaluate: encode authorization: %w", err)
		}
		fields["authorization"] = tok
		if request, err = json.Marshal(fields); err != nil {
			return nil, fmt.Errorf("warden POST /v1/evaluate: encode: %w", err)
		}
	}
	b, err := c.do(ctx, http.MethodPost, "/v1/evaluate", nil, strings.NewReader(string(request)))
	if err != nil {
		return nil, err
	}
	var a Answer
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("warden POST /v1/evaluate: decode: %w", err)
	}
	return &a, nil
}

// PolicyVersion is a stored policy version.
type PolicyVersion struct {
	Name      string    `json:"name"`
	Version   int64     `json:"version"`
	Digest    string    `json:"digest"`
	Author    string    `json:"author"`
	CreatedAt time.Time `json:"created_at"`
	Active    bool      `json:"active"`
	Source    string    `json:"source,omitempty"`
}

// PushPolicy pushes a policy document (YAML or JSON); created is false
// when identical content already had a version.
func (c *Client) PushPolicy(ctx context.Context, doc []byte, contentType string) (name string, version int64, created bool, err error) {
	status, b, err := c.send(ctx, http.MethodPost, "/v1/policies", nil, strings.NewReader(string(doc)), contentType)
	if err != nil {
		return "", 0, false, err
	}
	var out struct {
		Name    string `json:"name"`
		Version int64  `json:"version"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return "", 0, false, fmt.Errorf("warden POST /v1/policies: decode: %w", err)
	}
	return out.Name, out.Version, status == http.StatusCreated, nil
}

// ActivatePolicy makes a version the active policy.
func (c *Client) ActivatePolicy(ctx context.Context, name string, version int64) error {
	_, err := c.do(ctx, http.MethodPost, "/v1/policies/"+url.PathEscape(name)+"/versions/"+strconv.FormatInt(version, 10)+"/activate", nil, strings.NewReader("{}"))
	return err
}

// PolicyVersions lists versions (of one name, or all when name is empty).
func (c *Client) PolicyVersions(ctx context.Context, name string) ([]PolicyVersion, error) {
	path := "/v1/policies"
	if name != "" {
		path += "/" + url.PathEscape(name) + "/versions"
	}
	var out struct {
		Versions []PolicyVersion `json:"versions"`
	}
	return out.Versions, c.getJSON(ctx, path, nil, &out)
}

// PolicyVersion returns one version with its source; version 0 means the
// active policy.
func (c *Client) PolicyVersion(ctx context.Context, name string, version int64) (*PolicyVersion, error) {
	if version == 0 {
		var out struct {
			Policy PolicyVersion `json:"policy"`
		}
		if err := c.getJSON(ctx, "/v1/policies/active", nil, &out); err != nil {
			return nil, err
		}
		return &out.Policy, nil
	}
	var v PolicyVersion
	return &v, c.getJSON(ctx, "/v1/policies/"+url.PathEscape(name)+"/versions/"+strconv.FormatInt(version, 10), nil, &v)
}
