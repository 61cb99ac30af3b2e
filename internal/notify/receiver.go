package notify

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Receiver kinds.
const (
	// KindWebhook is a generic JSON webhook, signed with the receiver's
	// secret (see the package documentation).
	KindWebhook = "webhook"
	// KindSlack is a Slack-compatible incoming webhook; its URL is its
	// credential, and it takes no secret.
	KindSlack = "slack"
	// KindAlertmanager receives each message as one alert in the body
	// Alertmanager's webhook_config sends (format version "4"), for tools
	// that already take Alertmanager's webhooks. Its secret is optional:
	// with one, deliveries are signed as a webhook's are.
	KindAlertmanager = "alertmanager"
)

var receiverKinds = []string{KindWebhook, KindSlack, KindAlertmanager}

// Limits of receiver configuration.
const (
	// MaxReceivers is the most receivers a tenant may configure.
	MaxReceivers = 16
	// MinSecretBytes is the shortest secret: 256 bits.
	MinSecretBytes = 32
	// MaxSecretBytes is the longest secret.
	MaxSecretBytes = 512
	// MaxURLBytes is the longest receiver URL.
	MaxURLBytes = 2048
	// MaxEvents is the most event kinds one receiver may subscribe to.
	MaxEvents = 32
)

// RedactedSecret replaces secrets (and secret parts of URLs) in redacted
// receivers. It can never be a valid secret.
const RedactedSecret = "[redacted]"

// Receiver is one destination of notifications, as a tenant configures it
// in its settings (JSON, snake_case).
//
// Secret and, for Slack, URL are credentials: they MUST NOT be logged,
// entered in the ledger or returned by the API. Settings answers show
// receivers as [Receiver.Redacted] returns them. String, Format and
// LogValue show only the name, kind and host.
type Receiver struct {
	// Name identifies the receiver within its tenant: [a-z0-9][a-z0-9._-]{0,63}.
	Name string `json:"name"`
	// Kind is KindWebhook, KindSlack or KindAlertmanager.
	Kind string `json:"kind"`
	// URL is where deliveries are POSTed: https, or http to a loopback
	// address (tests and local use).
	URL string `json:"url"`
	// Secret signs deliveries (at least MinSecretBytes bytes). Required
	// for webhooks, optional for Alertmanager receivers; Slack receivers
	// take none.
	Secret string `json:"secret,omitempty"`
	// Events are the message kinds the receiver wants; empty means all.
	Events []string `json:"events,omitempty"`
}

// ErrInvalid marks receiver configuration or a message that Validate
// refuses. The API answers it with 400.
var ErrInvalid = errors.New("invalid notification configuration")

// Error is a refused receiver or message: which one, which field and why.
// Its text never holds a secret or a URL beyond its host.
type Error struct {
	Receiver string // the receiver's name, empty for a message or a list
	Field    string // the JSON field at fault, e.g. "secret"
	Msg      string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Receiver != "" {
		fmt.Fprintf(&b, "receiver %q: ", e.Receiver)
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *Error) Unwrap() error { return ErrInvalid }

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Validate reports the first problem of r's configuration.
func (r Receiver) Validate() error {
	name := r.Name
	if len(name) > 80 {
		name = name[:80] + "…"
	}
	bad := func(field, format string, args ...any) error {
		return &Error{Receiver: name, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if !nameRE.MatchString(r.Name) {
		return bad("name", "must match [a-z0-9][a-z0-9._-]{0,63}")
	}
	if !slices.Contains(receiverKinds, r.Kind) {
		return bad("kind", "must be %q, %q or %q", KindWebhook, KindSlack, KindAlertmanager)
	}
	if err := checkURL(r.URL); err != nil {
		return bad("url", "%s", err)
	}
	switch {
	case r.Secret == RedactedSecret:
		return bad("secret", "is the redaction placeholder; send the secret")
	case r.Kind == KindSlack && r.Secret != "":
		return bad("secret", "slack receivers take no secret (the url is the credential)")
	case r.Kind == KindWebhook && r.Secret == "":
		return bad("secret", "is required for webhook receivers")
	case r.Secret != "" && len(r.Secret) < MinSecretBytes:
		return bad("secret", "must be at least %d bytes", MinSecretBytes)
	case len(r.Secret) > MaxSecretBytes:
		return bad("secret", "must be at most %d bytes", MaxSecretBytes)
	}
	if len(r.Events) > MaxEvents {
		return bad("events", "at most %d", MaxEvents)
	}
	for i, e := range r.Events {
		if !knownKind(e) {
			return bad("events", "unknown event %q (known: %s)", clip(e, 64), strings.Join(Kinds(), ", "))
		}
		if slices.Contains(r.Events[:i], e) {
			return bad("events", "%q listed twice", e)
		}
	}
	return nil
}

// checkURL returns why u is not an acceptable receiver URL. Its messages
// never repeat the URL: its path or query may be a credential.
func checkURL(raw string) error {
	if len(raw) > MaxURLBytes {
		return fmt.Errorf("at most %d bytes", MaxURLBytes)
	}
	if strings.Contains(raw, RedactedSecret) {
		return errors.New("holds the redaction placeholder; send the url")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return errors.New("must be an absolute http(s) URL")
	}
	if u.User != nil {
		return errors.New("must not carry user info (webhooks are signed with the secret)")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return errors.New("must not have a fragment")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !loopback(u.Hostname()) {
			return fmt.Errorf("must use https (http only to a loopback address, not %q)", clip(u.Hostname(), 64))
		}
	default:
		return errors.New("must use https")
	}
	return nil
}

// loopback reports whether host names the local machine: "localhost" or a
// loopback IP literal.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ValidateReceivers validates each receiver and the list as a whole: at
// most MaxReceivers, names unique.
func ValidateReceivers(rs []Receiver) error {
	if len(rs) > MaxReceivers {
		return &Error{Field: "receivers", Msg: fmt.Sprintf("at most %d", MaxReceivers)}
	}
	for i, r := range rs {
		if err := r.Validate(); err != nil {
			return err
		}
		if slices.ContainsFunc(rs[:i], func(o Receiver) bool { return o.Name == r.Name }) {
			return &Error{Receiver: r.Name, Field: "name", Msg: "used by another receiver"}
		}
	}
	return nil
}

// Wants reports whether r subscribes to messages of the given kind.
func (r Receiver) Wants(kind string) bool {
	return len(r.Events) == 0 || slices.Contains(r.Events, kind)
}

// Redacted returns r fit to show: the secret, if any, replaced by
// RedactedSecret; the URL's query replaced by it; and for Slack, whose URL
// path holds the token, the path too. Settings answers MUST show receivers
// redacted.
func (r Receiver) Redacted() Receiver {
	if r.Secret != "" {
		r.Secret = RedactedSecret
	}
	r.URL = redactURL(r.URL, r.Kind == KindSlack)
	r.Events = slices.Clone(r.Events)
	return r
}

func redactURL(raw string, path bool) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		if raw == "" {
			return ""
		}
		return RedactedSecret
	}
	hidePath := path && u.Path != "" && u.Path != "/"
	hideQuery := u.RawQuery != "" || u.ForceQuery
	if !hidePath && !hideQuery {
		return raw // nothing secret in it: shown as written
	}
	s := u.Scheme + "://" + u.Host
	if hidePath {
		s += "/" + RedactedSecret
	} else {
		s += u.EscapedPath()
	}
	if hideQuery {
		s += "?" + RedactedSecret
	}
	return s
}

// RestoreSecrets returns next with redacted values put back from prev, so
// that a settings change that sends receivers back as it read them keeps
// their credentials. A receiver matches the one of prev with its name and
// kind. Its URL is restored when it equals the redacted form of the stored
// one; its secret is restored when it is RedactedSecret and the URL keeps
// the stored scheme and host, so that a kept secret never signs for a new
// host. Whatever is not restored stays a placeholder, which Validate
// refuses.
func RestoreSecrets(next, prev []Receiver) []Receiver {
	out := make([]Receiver, len(next))
	for i, n := range next {
		n.Events = slices.Clone(n.Events)
		j := slices.IndexFunc(prev, func(p Receiver) bool { return p.Name == n.Name && p.Kind == n.Kind })
		if j >= 0 {
			p := prev[j]
			if n.URL != p.URL && n.URL == p.Redacted().URL {
				n.URL = p.URL
			}
			if n.Secret == RedactedSecret && p.Secret != "" && sameOrigin(n.URL, p.URL) {
				n.Secret = p.Secret
			}
		}
		out[i] = n
	}
	return out
}

func sameOrigin(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Host != "" &&
		ua.Scheme == ub.Scheme && strings.EqualFold(ua.Host, ub.Host)
}

// host returns the URL's host for logs, or "" if it does not parse.
func (r Receiver) host() string {
	u, err := url.Parse(r.URL)
	if err != nil {
		return ""
	}
	return u.Host
}

// String names the receiver without its credentials.
func (r Receiver) String() string {
	return fmt.Sprintf("receiver %q (%s, host %q)", r.Name, r.Kind, r.host())
}

// Format prints r as String does for every verb, %#v included, so that no
// formatting of a Receiver shows its secret.
func (r Receiver) Format(f fmt.State, _ rune) { fmt.Fprint(f, r.String()) }

// LogValue logs the receiver's name, kind and host, never its secret or
// the rest of its URL.
func (r Receiver) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", r.Name), slog.String("kind", r.Kind), slog.String("host", r.host()))
}

var _ slog.LogValuer = Receiver{}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
