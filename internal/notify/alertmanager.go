package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// alertmanagerVersion is the version of Alertmanager's webhook format
// that an alertmanager receiver gets, its "version" field.
const alertmanagerVersion = "4"

// Alert statuses of the Alertmanager format.
const (
	alertFiring   = "firing"
	alertResolved = "resolved"
)

// Labels and annotations Warden sets on every alert. A message field of
// the same name never replaces a label: receivers route on these.
const (
	labelAlertname        = "alertname"
	labelTenant           = "tenant"
	labelKind             = "kind"
	annotationSummary     = "summary"
	annotationDescription = "description"
	annotationID          = "warden_id"
)

// alertmanagerBody is the JSON body Alertmanager's webhook_config sends,
// here always with a group of one alert.
type alertmanagerBody struct {
	Version           string              `json:"version"`
	GroupKey          string              `json:"groupKey"`
	TruncatedAlerts   int                 `json:"truncatedAlerts"`
	Status            string              `json:"status"`
	Receiver          string              `json:"receiver"`
	GroupLabels       map[string]string   `json:"groupLabels"`
	CommonLabels      map[string]string   `json:"commonLabels"`
	CommonAnnotations map[string]string   `json:"commonAnnotations"`
	ExternalURL       string              `json:"externalURL"`
	Alerts            []alertmanagerAlert `json:"alerts"`
}

type alertmanagerAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// alertmanagerPayload maps m to one alert, as receiver (the Warden
// receiver's name) gets it. Everything that identifies the alert (group
// key, fingerprint) depends only on tenant and id, so that a consumer
// pairs an alert.resolved with the alert.raised it ends.
func alertmanagerPayload(receiver string, m Message) alertmanagerBody {
	status, ends := alertFiring, time.Time{} // Alertmanager's "not ended"
	if m.Kind == EventAlertResolved {
		status, ends = alertResolved, m.At
	}
	labels := make(map[string]string, len(m.Fields)+3)
	for k, v := range m.Fields {
		if labelName(k) {
			labels[k] = v
		}
	}
	labels[labelAlertname] = alertName(m.Kind)
	labels[labelTenant] = m.Tenant
	labels[labelKind] = m.Kind

	annotations := map[string]string{annotationSummary: m.Title, annotationID: m.ID}
	if m.Text != "" {
		annotations[annotationDescription] = m.Text
	}
	alert := alertmanagerAlert{
		Status: status, Labels: labels, Annotations: annotations,
		StartsAt: m.At, EndsAt: ends, GeneratorURL: m.Link,
		Fingerprint: alertFingerprint(m.Tenant, m.ID),
	}
	return alertmanagerBody{
		Version:  alertmanagerVersion,
		GroupKey: fmt.Sprintf("{}:{tenant=%q, warden_id=%q}", m.Tenant, m.ID),
		Status:   status,
		Receiver: receiver,
		// One alert to a group: every label and annotation is common.
		GroupLabels:       map[string]string{labelTenant: m.Tenant},
		CommonLabels:      labels,
		CommonAnnotations: annotations,
		Alerts:            []alertmanagerAlert{alert},
	}
}

// labelName reports whether k is a Prometheus label name,
// [a-zA-Z_][a-zA-Z0-9_]*, and not one of the names beginning with "__"
// that Prometheus reserves for its own use.
func labelName(k string) bool {
	if k == "" || strings.HasPrefix(k, "__") {
		return false
	}
	for i, c := range []byte(k) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// alertName is the alertname label of a message kind: "WardenAlert" for
// both alert kinds, so that a resolution names the alert it ends, and
// otherwise "Warden" and the kind in camel case
// (approval.requested: "WardenApprovalRequested").
func alertName(kind string) string {
	if kind == EventAlertRaised || kind == EventAlertResolved {
		return "WardenAlert"
	}
	var b strings.Builder
	b.WriteString("Warden")
	for part := range strings.FieldsFuncSeq(kind, func(r rune) bool { return r == '.' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// fingerprintDomain versions the fingerprint's input: a change to it
// changes every fingerprint, and receivers would see new alerts.
const fingerprintDomain = "warden.alertmanager.fingerprint.v1\n"

// alertFingerprint is the alert's "fingerprint": the first 8 bytes of
// SHA-256, in hex, of the domain and the length-prefixed tenant and id,
// so that no two (tenant, id) pairs share an input.
func alertFingerprint(tenant, id string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s%d:%s%d:%s", fingerprintDomain, len(tenant), tenant, len(id), id)
	return hex.EncodeToString(h.Sum(nil)[:8])
}
