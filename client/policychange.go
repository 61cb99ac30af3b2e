package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// The change workflow of policies: a pushed version is approved by keys
// other than its author as many times as the tenant's policy_approvals
// requires, then activated; meanwhile it can be the candidate, evaluated
// in shadow on every decision without changing any answer.

// PolicyApproval is one approval of a policy version.
type PolicyApproval struct {
	KeyID string    `json:"key_id"`
	At    time.Time `json:"at"`
}

// PolicyApprovals is a policy version's approvals.
type PolicyApprovals struct {
	Name      string           `json:"name"`
	Version   int64            `json:"version"`
	Approvals []PolicyApproval `json:"approvals"`
}

// Candidate is the tenant's candidate policy version.
type Candidate struct {
	Name    string    `json:"name"`
	Version int64     `json:"version"`
	SetAt   time.Time `json:"set_at"`
	SetBy   string    `json:"set_by"`
}

// Activation is one activation of the tenant's history.
type Activation struct {
	Name        string    `json:"name"`
	Version     int64     `json:"version"`
	ActivatedAt time.Time `json:"activated_at"`
	ActivatedBy string    `json:"activated_by"`
}

func versionPath(name string, version int64, verb string) string {
	return "/v1/policies/" + url.PathEscape(name) + "/versions/" + strconv.FormatInt(version, 10) + "/" + verb
}

// ApprovePolicy approves a policy version and returns its approvals after
// this one. The key that pushed the version cannot approve it (an *Error
// with status 403); a second approval by the same key is an *Error with
// status 409.
func (c *Client) ApprovePolicy(ctx context.Context, name string, version int64) (*PolicyApprovals, error) {
	var out PolicyApprovals
	if err := c.sendJSON(ctx, http.MethodPost, versionPath(name, version, "approve"), nil, struct{}{}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetCandidate makes a policy version the tenant's candidate: from now on
// every decision's answer carries, in Shadow, what it would decide. It
// replaces any earlier candidate.
func (c *Client) SetCandidate(ctx context.Context, name string, version int64) (*Candidate, error) {
	var out Candidate
	if err := c.sendJSON(ctx, http.MethodPost, versionPath(name, version, "candidate"), nil, struct{}{}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ClearCandidate ends shadow evaluation. Without a candidate it changes
// nothing.
func (c *Client) ClearCandidate(ctx context.Context) error {
	_, err := c.do(ctx, http.MethodDelete, "/v1/policies/candidate", nil, nil)
	return err
}

// Activations returns the tenant's activation history, newest first
// (limit <= 0: the server's default).
func (c *Client) Activations(ctx context.Context, limit int) ([]Activation, error) {
	var out struct {
		Activations []Activation `json:"activations"`
	}
	if err := c.getJSON(ctx, "/v1/policies/activations", pageQuery("", limit), &out); err != nil {
		return nil, err
	}
	return out.Activations, nil
}
