package alerting

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is what stores return for an unknown alert or incident.
var ErrNotFound = errors.New("not found")

// ErrExists is what a store returns when it is asked to insert an alert
// or incident whose id it holds already. Alert ids are derived from what
// raised them, so a monitor that resumes from a checkpoint and raises an
// alert again is told it is recorded.
var ErrExists = errors.New("already recorded")

// Tx is what alerts and incidents need of an append transaction (the
// tenant's log, held exclusively): every change is written in the
// transaction of the entry that records it.
type Tx interface {
	// InsertAlert stores a new alert of the transaction's tenant
	// (ErrExists if its id is taken).
	InsertAlert(a *Alert) error
	// AlertInTx reads one of the tenant's alerts (ErrNotFound).
	AlertInTx(id string) (*Alert, error)
	// UpdateAlert replaces a stored alert (ErrNotFound).
	UpdateAlert(a *Alert) error
	// InsertIncident stores a new incident (ErrExists).
	InsertIncident(i *Incident) error
	// IncidentInTx reads one of the tenant's incidents (ErrNotFound).
	IncidentInTx(id string) (*Incident, error)
	// UpdateIncident replaces a stored incident (ErrNotFound).
	UpdateIncident(i *Incident) error
}

// Reader reads alerts and incidents outside a transaction. Another
// tenant's object is ErrNotFound.
type Reader interface {
	Alert(ctx context.Context, tenant, id string) (*Alert, error)
	// Alerts returns the tenant's alerts that f selects, newest first
	// (by the seq of their alert.raised entry).
	Alerts(ctx context.Context, tenant string, f AlertFilter) ([]Alert, error)
	Incident(ctx context.Context, tenant, id string) (*Incident, error)
	// Incidents returns the tenant's incidents that f selects, newest
	// first (by the seq of their incident.opened entry).
	Incidents(ctx context.Context, tenant string, f IncidentFilter) ([]Incident, error)
}

// AlertFilter selects alerts: each non-empty field must equal the
// alert's; times bound the alert's Time, [From, To); BeforeSeq, when
// positive, keeps alerts raised at a smaller seq (the cursor of the next
// page). Limit must be positive.
type AlertFilter struct {
	Status    string
	Severity  string
	Agent     string
	Metric    string
	From, To  time.Time
	BeforeSeq int64
	Limit     int
}

// IncidentFilter selects incidents: Status if not empty; BeforeSeq as in
// AlertFilter. Limit must be positive.
type IncidentFilter struct {
	Status    string
	BeforeSeq int64
	Limit     int
}
