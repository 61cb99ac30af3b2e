package main

import (
	"fmt"

	"github.com/wardenhq/warden/internal/scan"
	"github.com/wardenhq/warden/internal/scan/detect"
	"github.com/wardenhq/warden/internal/secretrules"
)

// newScanner builds the content scanner: gitleaks' maintained default
// secret rules and every Warden detector, phone numbers parsed in region.
func newScanner(region string) (*scan.Scanner, error) {
	rules, err := secretrules.Gitleaks()
	if err != nil {
		return nil, fmt.Errorf("load secret rules: %w", err)
	}
	s, err := detect.New(detect.Options{SecretRules: rules, PhoneRegion: region})
	if err != nil {
		return nil, fmt.Errorf("build scanner: %w", err)
	}
	return s, nil
}
