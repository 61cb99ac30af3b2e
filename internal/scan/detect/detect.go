// Package detect assembles Warden's content scanner from its detectors:
// secrets, personal data, prompt injection and jailbreaks, unsafe input,
// exfiltration and tool poisoning. The secret rules are given by the
// caller (cmd/warden loads gitleaks' maintained set through
// internal/secretrules), so that this package stays pure.
package detect

import (
	"fmt"

	"github.com/wardenhq/warden/internal/scan"
	"github.com/wardenhq/warden/internal/scan/inject"
	"github.com/wardenhq/warden/internal/scan/pii"
	"github.com/wardenhq/warden/internal/scan/secret"
	"github.com/wardenhq/warden/internal/scan/unsafe"
)

// DefaultPhoneRegion is the region phone numbers without a country code
// are parsed in.
const DefaultPhoneRegion = "US"

// Options configure the scanner.
type Options struct {
	// SecretRules are the provider rules of the secret detector (its own
	// general rules always run).
	SecretRules []secret.Rule
	// PhoneRegion is the default region of phone numbers ("US" if empty).
	PhoneRegion string
	// Limits bound each scan (defaults when zero).
	Limits scan.Limits
}

// New returns a scanner with every detector.
func New(opts Options) (*scan.Scanner, error) {
	if opts.PhoneRegion == "" {
		opts.PhoneRegion = DefaultPhoneRegion
	}
	sec, err := secret.New(secret.Options{Rules: opts.SecretRules})
	if err != nil {
		return nil, fmt.Errorf("secret detector: %w", err)
	}
	return scan.New(opts.Limits,
		sec,
		pii.New(pii.Options{DefaultRegion: opts.PhoneRegion}),
		inject.New(inject.Options{}),
		unsafe.NewUnsafeInput(),
		unsafe.NewExfiltration(),
		unsafe.NewToolPoisoning(),
	), nil
}
