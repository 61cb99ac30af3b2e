package gate

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"

	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/scan"
)

// Content scans requests' args and outcomes' outputs with a scan.Scanner.
// Values are recorded redacted; each redaction carries an HMAC of the
// value under the tenant's redaction key, never a plain hash.
type Content struct {
	Scanner *scan.Scanner
	// Secret is the installation's redaction secret; each tenant's key is
	// derived from it (RedactionKey). It MUST NOT be stored beside the
	// data it protects.
	Secret []byte
}

// RedactionKey derives a tenant's redaction HMAC key from the secret.
func RedactionKey(secret []byte, tenant string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("warden redaction key v1\x00" + tenant))
	return m.Sum(nil)
}

// ScanArgs implements Scanner.
func (c *Content) ScanArgs(ctx context.Context, tenant string, req *policy.Request) (*ScanResult, error) {
	return c.scan(ctx, tenant, req.Args, "/args", scan.Argument)
}

// ScanOutput implements OutputScanner.
func (c *Content) ScanOutput(ctx context.Context, tenant, root string, output any) (*ScanResult, error) {
	return c.scan(ctx, tenant, output, root, scan.Output)
}

func (c *Content) scan(ctx context.Context, tenant string, v any, root string, prov scan.Provenance) (*ScanResult, error) {
	if c == nil || c.Scanner == nil {
		return nil, errors.New("no scanner")
	}
	if len(c.Secret) == 0 {
		return nil, errors.New("no redaction secret")
	}
	res := c.Scanner.ScanValue(ctx, v, root, prov)
	key := RedactionKey(c.Secret, tenant)
	redacted, recs := scan.Redact(v, root, res.Findings, key, nil)
	out := &ScanResult{Incomplete: res.Incomplete, Redacted: redacted}
	for i, f := range res.Findings {
		out.Findings = append(out.Findings, event.DecisionFinding{Category: f.Category, Rule: f.Rule, Severity: f.Severity,
			Path: f.Path, Start: f.Start, End: f.End, InKey: f.InKey, ValueHMAC: recs[i].HMAC})
	}
	findings := res.Findings
	out.Redact = func(pick func(event.DecisionFinding) bool) any {
		picked := func(f scan.Finding) bool {
			return pick(event.DecisionFinding{Category: f.Category, Rule: f.Rule, Severity: f.Severity, Path: f.Path})
		}
		r, _ := scan.Redact(v, root, findings, key, picked)
		return r
	}
	return out, nil
}
