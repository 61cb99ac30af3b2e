// Package notify delivers Warden's outbound notifications (an approval
// waiting for a vote now, alerts later) to the receivers a tenant
// configured: a generic JSON webhook signed with HMAC-SHA256, a
// Slack-compatible incoming webhook, or an Alertmanager-compatible webhook.
//
// A [Receiver] is tenant configuration, stored as JSON in the tenant's
// settings. Its secret (and, for Slack, the URL, which is Slack's only
// credential) MUST NOT be logged, written to the ledger or shown: settings
// answers show receivers through [Receiver.Redacted], and a settings
// change sent back with the redacted values keeps the stored ones
// ([RestoreSecrets]).
//
// A [Dispatcher] owns a bounded queue and a pool of workers. [Dispatcher.Send]
// never blocks its caller, who is on the request path: a delivery that
// finds the queue full fails at once. Every delivery ends in exactly one
// [Result], handed to the configured callback so the caller can record
// failures in the ledger. Result errors name the receiver, never its
// secret or URL.
//
// # Webhook signatures
//
// A generic webhook receives the message as a JSON object (see [Message])
// in a POST with these headers:
//
//	Content-Type:       application/json
//	X-Warden-Event:     the message kind, e.g. approval.requested
//	X-Warden-Delivery:  an id unique to the delivery, the same on every
//	                    attempt of it (use it to drop duplicates)
//	X-Warden-Timestamp: the attempt's time, decimal Unix seconds
//	X-Warden-Signature: sha256=<hex>
//
// where <hex> is the lower-case hex encoding of
//
//	HMAC-SHA256(key = the receiver's secret as bytes,
//	            data = timestamp + "." + raw request body)
//
// A receiver verifies a delivery by recomputing the HMAC over the raw body
// bytes as received (before any JSON decoding), comparing it in constant
// time, and refusing timestamps far from its own clock (five minutes is
// usual), which bounds replays. [Verify] does all three.
//
// # Alertmanager receivers
//
// A receiver of kind [KindAlertmanager] gets the body Prometheus
// Alertmanager's webhook_config sends, version "4", so that tools built
// for Alertmanager take Warden's messages unchanged. Each message is a
// group of one alert:
//
//	status        "resolved" for alert.resolved, else "firing"
//	labels        alertname ("WardenAlert" for both alert kinds, else
//	              "Warden" and the kind in camel case, e.g.
//	              WardenApprovalRequested), tenant, kind, and every field
//	              whose key is a label name ([a-zA-Z_][a-zA-Z0-9_]*, not
//	              starting with "__"); a field never replaces the first three
//	annotations   summary (the title), description (the text, if any),
//	              warden_id (the message id)
//	startsAt      the message's time
//	endsAt        the message's time when resolved, else 0001-01-01T00:00:00Z
//	generatorURL  the message's link
//	fingerprint   16 hex digits, from tenant and id only
//
// The top level repeats the status; groupLabels hold the tenant;
// commonLabels and commonAnnotations are the alert's; groupKey, like the
// fingerprint, depends only on tenant and id, so that an alert's
// resolution falls in its group; receiver is the Warden receiver's name;
// truncatedAlerts is 0 and externalURL empty. The headers are a webhook's;
// the two signature headers are sent only if the receiver has a secret.
package notify
