package notify

import (
	"encoding/json"
	"fmt"

	"github.com/wardenhq/warden/internal/access"
)

var _ access.ReceiverRules = SettingsRules{}

// SettingsRules let the access model keep receivers in tenant settings
// without knowing their shape: it checks, redacts and restores the JSON
// list with the rules of this package.
type SettingsRules struct{}

// Decode reads a receiver list as settings store it.
func Decode(list json.RawMessage) ([]Receiver, error) {
	if len(list) == 0 {
		return nil, nil
	}
	var rs []Receiver
	if err := json.Unmarshal(list, &rs); err != nil {
		return nil, fmt.Errorf("%w: receivers must be a list of {name, kind, url, secret?, events?}", ErrInvalid)
	}
	return rs, nil
}

// Validate implements access.ReceiverRules.
func (SettingsRules) Validate(list json.RawMessage) error {
	rs, err := Decode(list)
	if err != nil {
		return err
	}
	return ValidateReceivers(rs)
}

// Redact implements access.ReceiverRules.
func (SettingsRules) Redact(list json.RawMessage) (json.RawMessage, error) {
	rs, err := Decode(list)
	if err != nil {
		return nil, err
	}
	out := make([]Receiver, len(rs))
	for i, r := range rs {
		out[i] = r.Redacted()
	}
	return json.Marshal(out)
}

// Restore implements access.ReceiverRules.
func (SettingsRules) Restore(next, prev json.RawMessage) (json.RawMessage, error) {
	n, err := Decode(next)
	if err != nil {
		return nil, err
	}
	p, err := Decode(prev)
	if err != nil {
		return nil, err
	}
	if n == nil {
		n = []Receiver{}
	}
	return json.Marshal(RestoreSecrets(n, p))
}
