package watch

import (
	"context"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/wardenhq/warden/internal/alerting"
	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
)

// Names of the alert a failed verification raises.
const (
	MetricIntegrity  = "ledger.integrity"
	DetectorVerify   = "verify"
	integrityOutcome = "the log does not verify"
)

// verify runs the tenant's verification: every Verify interval a round
// checks the entries appended since the last round (the first round
// checks the whole log) and the checkpoints signed since, paced: a step
// verifies batches until its share of the poll interval is spent, and
// rests after each (verifyShare, verifyRest). The verifier recomputes
// every leaf, the chain and the tree and checks them against the stored hashes and the
// signed checkpoints (ledger.Verifier); it keeps the tree in memory, so a
// restarted job verifies the whole log again. A failure raises a
// critical alert, once.
func (j *Job) verify(ctx context.Context, f *follower) error {
	if len(j.Keys) == 0 || f.raisedFail {
		return nil
	}
	now := j.now()
	if f.verifyTo == 0 {
		if !f.lastVerify.IsZero() && now.Sub(f.lastVerify) < j.opts.Verify {
			return nil
		}
		head, err := j.Log.Head(ctx, f.tenant)
		if err != nil {
			return err
		}
		if f.verifier == nil {
			cps, err := j.Log.Checkpoints(ctx, f.tenant, 0, math.MaxInt64)
			if err != nil {
				return err
			}
			v, err := ledger.NewVerifier(ledger.VerifyOptions{Tenant: f.tenant, Origin: j.Origin, Keys: j.Keys}, notes(cps))
			if err != nil {
				return err
			}
			f.verifier = v
		} else {
			cps, err := j.Log.Checkpoints(ctx, f.tenant, f.verifier.Size(), math.MaxInt64)
			if err != nil {
				return err
			}
			if fail := f.verifier.AddCheckpoints(notes(cps)); fail != nil {
				return j.verifyFailed(ctx, f, fail)
			}
		}
		if head.Size == f.verifier.Size() {
			f.lastVerify, f.verifiedOK = now, head.Size
			return nil
		}
		f.verifyTo = head.Size
	}
	v := f.verifier
	// At least one batch a step, so that a round always progresses.
	for first := true; v.Size() < f.verifyTo && (first || j.verifyLeft > 0); first = false {
		start := time.Now()
		recs, err := j.Log.Records(ctx, f.tenant, v.Size(), f.verifyTo, verifyBatchSize)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			// Rows the head promised are not there.
			return j.verifyFailed(ctx, f, &ledger.Failure{Seq: v.Size(), Check: ledger.CheckSequence,
				Reason: fmt.Sprintf("entries from %d are missing: the log's head says %d", v.Size(), f.verifyTo)})
		}
		for i := range recs {
			if fail := v.AddRecord(&recs[i]); fail != nil {
				return j.verifyFailed(ctx, f, fail)
			}
		}
		took := time.Since(start)
		j.verifyLeft -= took
		if v.Size() < f.verifyTo && !j.opts.Unpaced {
			if err := rest(ctx, verifyRest*took); err != nil {
				return err
			}
		}
	}
	if v.Size() >= f.verifyTo {
		f.verifyTo, f.lastVerify, f.verifiedOK = 0, now, v.Size()
		return j.recordVerified(ctx, f.tenant, &event.SelfVerified{Size: v.Size(), OK: true})
	}
	return nil
}

// recordVerified appends the ledger.self_verified entry of a round.
func (j *Job) recordVerified(ctx context.Context, tenant string, body *event.SelfVerified) error {
	req, err := event.New(event.KindSelfVerified, event.ActorMonitor, body)
	if err != nil {
		return err
	}
	if _, err := j.Ledger.Append(ctx, tenant, req); err != nil {
		return fmt.Errorf("record the verification: %w", err)
	}
	return nil
}

// verifyBatchSize is the entries read and verified between two rests.
const verifyBatchSize = 1024

// rest waits d, or until ctx ends.
func rest(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func notes(cps []ledger.StoredCheckpoint) [][]byte {
	out := make([][]byte, len(cps))
	for i := range cps {
		out[i] = cps[i].Note
	}
	return out
}

// verifyFailed raises the critical alert of a failed verification. Its
// id is derived from the failure, so a restarted job that finds the same
// failure finds the alert recorded.
func (j *Job) verifyFailed(ctx context.Context, f *follower, fail *ledger.Failure) error {
	msg := fmt.Sprintf("%s: %s", integrityOutcome, fail.Error())
	a := alerting.Alert{Time: j.now(), Metric: MetricIntegrity, Severity: alerting.SeverityCritical, Detector: DetectorVerify,
		Observed: float64(fail.Seq), Message: clip(msg, 1000)}
	a.ID = alerting.IntegrityAlertID(f.tenant, a.Message)
	j.log().Error("monitor: the log does not verify", "tenant", f.tenant, "seq", fail.Seq, "check", fail.Check, "reason", fail.Reason)
	if _, _, err := j.Alerts.Raise(ctx, f.tenant, a, true); err != nil {
		return fmt.Errorf("raise the verification alert: %w", err)
	}
	f.raisedFail, f.verifyTo = true, 0
	return j.recordVerified(ctx, f.tenant, &event.SelfVerified{Size: f.verifier.Size(), Check: fail.Check, FailSeq: fail.Seq, Reason: clip(fail.Reason, 500)})
}

// clip returns at most n bytes of s, cut at a rune boundary: what it
// returns is recorded and sent, and must stay UTF-8.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
