package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Evidence streams the tenant's evidence archive of [from, to) (a zip)
// into w and returns how many bytes it wrote. format is "" or "oscal"
// (the archive then holds the OSCAL assessment results too); a positive
// trustedSize asks for the proof that the log extends a checkpoint of that
// size the auditor holds. The export
// is recorded in the tenant's log. The request has no overall timeout:
// a year of a busy tenant takes a while; ctx bounds it.
func (c *Client) Evidence(ctx context.Context, from, to time.Time, format string, trustedSize int64, w io.Writer) (int64, error) {
	q := url.Values{}
	if trustedSize > 0 {
		q.Set("trusted_size", strconv.FormatInt(trustedSize, 10))
	}
	q.Set("from", from.UTC().Format(time.RFC3339Nano))
	q.Set("to", to.UTC().Format(time.RFC3339Nano))
	if format != "" {
		q.Set("format", format)
	}
	if c.tenant != "" {
		q.Set("tenant", c.tenant)
	}
	u := *c.base
	u.Path = c.base.Path + "/v1/evidence"
	u.RawPath = ""
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, fmt.Errorf("warden GET /v1/evidence: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	hc := *c.hc
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("warden GET /v1/evidence: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
		e := &Error{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode)}
		_ = json.Unmarshal(b, e)
		e.Status = resp.StatusCode
		return 0, e
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("warden GET /v1/evidence: the archive was cut after %d bytes: %w", n, err)
	}
	return n, nil
}
