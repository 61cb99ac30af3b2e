// Package notify delivers Warden's outbound notifications (an approval
// waiting for a vote now, alerts later) to the receivers a tenant
// configured: a generic JSON webhook signed with HMAC-SHA256, or a
// Slack-compatible incoming webhook.
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
package notify
