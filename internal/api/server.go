// Package api is Warden's HTTP edge: routes, strict bounded decoding,
// authentication, problem+json errors, request ids, health and metrics. It
// reaches storage only through the interfaces below, never a store package.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/alerting"
	"github.com/wardenhq/warden/internal/approval"
	"github.com/wardenhq/warden/internal/controls"
	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/evidence"
	"github.com/wardenhq/warden/internal/gate"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/scan"
	"github.com/wardenhq/warden/internal/watch"
)

// DefaultMaxBody is the largest request body accepted.
const DefaultMaxBody = 1 << 20

// Store is what the API reads: the logs, the keys and the tenants.
type Store interface {
	ledger.Store
	access.KeyReader
	event.ReceiptReader
	Tenant(ctx context.Context, id string) (*access.Tenant, error)
	// TouchKey records a key's last use.
	TouchKey(ctx context.Context, id string, at time.Time) error
	// Ping fails when the store cannot take a write.
	Ping(ctx context.Context) error
}

// Config holds the Server's dependencies.
type Config struct {
	Store  Store
	Ledger *ledger.Ledger
	// Origin is the installation origin; VerifierKey the checkpoint
	// verifier key in sumdb/note text form.
	Origin      string
	VerifierKey string
	// KeyHistory are every verifier key the installation signed with,
	// oldest first, the current one last (nil: VerifierKey alone). Full
	// verifications check the key handovers against it.
	KeyHistory []string
	// Gate decides requests; Policies keeps policy versions.
	Gate     *gate.Gate
	Policies *policy.Manager
	// Scanner serves POST /v1/scan (nil: the route answers 400).
	Scanner *scan.Scanner
	// Access keeps tenants, keys and settings.
	Access *access.Service
	// Approvals keeps approval requests.
	Approvals *approval.Service
	// Controls keeps kill switches.
	Controls *controls.Service
	// Alerts keeps alerts and incidents; MonitorStore serves the
	// monitor's series (nil: the routes answer 400).
	Alerts       *alerting.Service
	MonitorStore watch.Store
	// Evidence makes evidence archives (nil: GET /v1/evidence answers 400).
	Evidence *evidence.Exporter
	// OnTenant prepares a tenant just created (its first policy).
	OnTenant func(ctx context.Context, tenant string) error
	// RateLimit is each key's sustained requests per second on this
	// replica (0: unlimited), RateBurst the burst above it.
	RateLimit float64
	RateBurst int
	Logger    *slog.Logger
	Metrics   *Metrics
	MaxBody   int64
	Clock     func() time.Time
}

// Server serves the HTTP API.
type Server struct {
	cfg     Config
	log     *slog.Logger
	mux     *http.ServeMux
	verify  chan struct{} // one full verification at a time
	routes  []route
	handler http.Handler
	limiter *keyLimiter
}

// route is one entry of the route table: the mux, the permission check
// and the OpenAPI document are all made from it.
type route struct {
	method, path string
	perm         access.Permission // "" for public routes
	summary      string
	h            func(w http.ResponseWriter, r *http.Request)
}

// New returns a Server. It does not listen; serve Handler().
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(prometheus.NewRegistry())
	}
	s := &Server{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux(), verify: make(chan struct{}, 1),
		limiter: newKeyLimiter(cfg.RateLimit, cfg.RateBurst)}
	s.routes = []route{
		{"GET", "/healthz", "", "liveness: the process serves requests", s.healthz},
		{"GET", "/readyz", "", "readiness: the store takes writes", s.readyz},
		{"GET", "/v1/openapi.json", "", "this API's OpenAPI document", s.openapi},
		{"GET", "/v1/log/checkpoint", access.PermLedgerRead, "latest signed checkpoint (C2SP tlog-checkpoint note)", s.getCheckpoint},
		{"GET", "/v1/log/key", access.PermLedgerRead, "checkpoint verifier key (sumdb/note text form)", s.getKey},
		{"GET", "/v1/log/entries", access.PermLedgerRead, "entries with seq in [from, to), cursor paged", s.listEntries},
		{"GET", "/v1/log/entries/{seq}", access.PermLedgerRead, "one entry", s.getEntry},
		{"GET", "/v1/log/proof/inclusion", access.PermLedgerRead, "inclusion proof of entry seq in the tree of size", s.inclusionProof},
		{"GET", "/v1/log/proof/consistency", access.PermLedgerRead, "consistency proof from tree size from to tree size to", s.consistencyProof},
		{"POST", "/v1/log/verify", access.PermLedgerRead, "full verification of the tenant's log", s.verifyLog},
		{"POST", "/v1/evaluate", access.PermEvaluate, "decide a request and record the decision", s.evaluate},
		{"POST", "/v1/scan", access.PermEvaluate, "run the content scanners on a text or JSON value (nothing is recorded)", s.scanContent},
		{"POST", "/v1/receipts/{id}/outcome", access.PermEvaluate, "report the outcome of an allowed action (once per receipt)", s.reportOutcome},
		{"GET", "/v1/receipts", access.PermReceiptsRead, "receipts filtered by agent, action, decision and time, cursor paged (an agent key sees its own principals')", s.listReceipts},
		{"GET", "/v1/receipts/{id}", access.PermReceiptsRead, "a decision with its outcome and inclusion proofs", s.getReceipt},
		{"POST", "/v1/policies", access.PermPolicyWrite, "push a policy version (application/yaml or application/json)", s.pushPolicy},
		{"GET", "/v1/policies", access.PermPolicyRead, "every policy version", s.listPolicies},
		{"GET", "/v1/policies/active", access.PermPolicyRead, "the active policy version", s.activePolicy},
		{"GET", "/v1/policies/{name}/versions", access.PermPolicyRead, "the versions of a policy", s.listPolicies},
		{"GET", "/v1/policies/{name}/versions/{n}", access.PermPolicyRead, "one policy version with its source", s.getPolicyVersion},
		{"GET", "/v1/policies/{name}/diff", access.PermPolicyRead, "rules added, removed and changed between two versions, with example requests whose decision changes", s.diffPolicy},
		{"POST", "/v1/policies/{name}/versions/{n}/activate", access.PermPolicyWrite, "make a version the active policy (409 until approved as the tenant's policy_approvals requires)", s.activatePolicy},
		{"POST", "/v1/policies/{name}/versions/{n}/approve", access.PermPolicyApprove, "approve a version (not its author's to approve)", s.approvePolicy},
		{"POST", "/v1/policies/{name}/versions/{n}/candidate", access.PermPolicyWrite, "make a version the candidate, evaluated in shadow on every decision", s.setCandidate},
		{"DELETE", "/v1/policies/candidate", access.PermPolicyWrite, "end shadow evaluation", s.clearCandidate},
		{"GET", "/v1/policies/shadow/report", access.PermPolicyRead, "the candidate's shadow decisions that differ from the active policy's, by rule, action and agent (?from=&to=&examples=)", s.shadowReport},
		{"POST", "/v1/policies/replay", access.PermPolicyRead, "evaluate a version against the recorded decisions of a time range ({name, version, from?, to?, examples?})", s.replayPolicy},
		{"GET", "/v1/policies/activations", access.PermPolicyRead, "the tenant's activation history: who activated which version when", s.listActivations},
		{"POST", "/v1/keys", access.PermKeysWrite, "create a key ({role, name, groups?, bindings?, expires_at?}); its secret is in this answer only", s.createKey},
		{"GET", "/v1/keys", access.PermKeysRead, "the tenant's keys in id order, cursor paged", s.listKeys},
		{"GET", "/v1/keys/{id}", access.PermKeysRead, "one key (never its secret)", s.getAPIKey},
		{"PATCH", "/v1/keys/{id}", access.PermKeysWrite, "change a key's role, name, groups, bindings or expiry", s.updateKey},
		{"DELETE", "/v1/keys/{id}", access.PermKeysWrite, "revoke a key: it stops at the next request", s.revokeKey},
		{"GET", "/v1/access/review", access.PermKeysRead, "the access review: every key with role, groups, bindings, creation, expiry and last use", s.accessReview},
		{"POST", "/v1/access/review/sign", access.PermKeysWrite, "sign off the access review ({digest?, comment?}), recorded as access.review_signed", s.signReview},
		{"GET", "/v1/settings", access.PermSettingsRead, "the tenant's settings", s.getSettings},
		{"PATCH", "/v1/settings", access.PermSettingsWrite, "change settings; one setting.changed entry per change", s.patchSettings},
		{"POST", "/v1/tenants", access.PermTenants, "create a tenant ({id, name}) with its first admin key, shown once", s.createTenant},
		{"GET", "/v1/tenants", access.PermTenants, "every tenant, cursor paged", s.listTenants},
		{"POST", "/v1/tenants/{id}/suspend", access.PermTenants, "suspend a tenant: its keys stop at their next request", s.suspendTenant},
		{"GET", "/v1/approvals", access.PermApprovalsRead, "approval requests (?status=pending|approved|rejected|expired|failed), cursor paged", s.listApprovals},
		{"GET", "/v1/approvals/{id}", access.PermApprovalsRead, "one approval request; ?wait=30s waits while it is pending; the authorization, for the agent", s.getApproval},
		{"POST", "/v1/approvals/{id}/approve", access.PermApprovalsVote, "approve ({comment?}) as an eligible approver", s.approve},
		{"POST", "/v1/approvals/{id}/reject", access.PermApprovalsVote, "reject ({comment?}); any rejection rejects", s.reject},
		{"POST", "/v1/controls", access.PermControlsWrite, "set a kill switch ({scope: {agent?, action?, session?}, effect, reason, expires_at?}); it binds the next decision on every replica", s.setControl},
		{"GET", "/v1/controls", access.PermControlsRead, "the kill switches in force", s.listControls},
		{"DELETE", "/v1/controls/{id}", access.PermControlsWrite, "clear a kill switch", s.clearControl},
		{"GET", "/v1/alerts", access.PermMonitorRead, "alerts, newest first (?status=&severity=&agent=&metric=&from=&to=), cursor paged", s.listAlerts},
		{"GET", "/v1/alerts/{id}", access.PermMonitorRead, "one alert", s.getAlert},
		{"POST", "/v1/alerts/{id}/ack", access.PermMonitorWrite, "acknowledge an alert ({comment?})", s.ackAlert},
		{"POST", "/v1/alerts/{id}/resolve", access.PermMonitorWrite, "resolve an alert ({comment}); its receivers are told", s.resolveAlert},
		{"POST", "/v1/incidents", access.PermMonitorWrite, "open an incident ({title, severity?, alerts?, receipts?})", s.openIncident},
		{"GET", "/v1/incidents", access.PermMonitorRead, "incidents, newest first (?status=open|resolved), cursor paged", s.listIncidents},
		{"GET", "/v1/incidents/{id}", access.PermMonitorRead, "one incident with its notes and links", s.getIncident},
		{"POST", "/v1/incidents/{id}/notes", access.PermMonitorWrite, "add a note to an open incident ({text})", s.noteIncident},
		{"POST", "/v1/incidents/{id}/links", access.PermMonitorWrite, "link alerts and receipts to an open incident ({alerts?, receipts?})", s.linkIncident},
		{"POST", "/v1/incidents/{id}/resolve", access.PermMonitorWrite, "resolve an incident ({resolution})", s.resolveIncident},
		{"GET", "/v1/evidence", access.PermLedgerRead, "the tenant's SOC 2 evidence archive of a period that has ended (?from=&to=[&format=oscal]), a zip streamed; the export is recorded", s.exportEvidence},
		{"GET", "/v1/monitor/agents", access.PermMonitorRead, "the agents the monitor has series for, by id, cursor paged", s.listMonitorAgents},
		{"GET", "/v1/monitor/agents/{id}/series", access.PermMonitorRead, "an agent's series of one metric (?metric=&from=&to=): observed, baseline and band, CUSUMs, alerts", s.agentSeries},
		{"GET", "/metrics", "", "Prometheus metrics", promhttp.HandlerFor(cfg.Metrics.gatherer, promhttp.HandlerOpts{}).ServeHTTP},
	}
	allowed := map[string][]string{}
	for _, rt := range s.routes {
		s.mux.Handle(rt.method+" "+rt.path, s.wrapRoute(rt))
		allowed[rt.path] = append(allowed[rt.path], rt.method)
	}
	// Other methods on a known path get a problem+json 405 (the mux's own
	// answer is plain text).
	for path, methods := range allowed {
		allow := strings.Join(methods, ", ")
		s.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			s.writeProblem(w, r, probMethod)
		})
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { s.writeProblem(w, r, probNotFound) })
	s.handler = s.base(s.mux)
	return s
}

// Handler returns the root handler with every middleware applied.
func (s *Server) Handler() http.Handler { return s.handler }

// wrapRoute adds authentication and the route's permission check.
func (s *Server) wrapRoute(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = withRoute(r, rt.method+" "+rt.path)
		if rt.perm == "" {
			rt.h(w, r)
			return
		}
		p, err := s.authenticate(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if s.limiter != nil {
			if ok, wait := s.limiter.allow(p.key.ID, s.cfg.Clock()); !ok {
				w.Header().Set("Retry-After", retryAfter(wait))
				s.writeProblem(w, r, probRateLimited)
				return
			}
		}
		if !p.key.Role.Allows(rt.perm) {
			s.writeProblem(w, r, probForbidden)
			return
		}
		rt.h(w, r.WithContext(withPrincipal(r.Context(), p)))
	})
}
