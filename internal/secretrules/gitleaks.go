// Package secretrules supplies the format rules of the secret detector
// (internal/scan/secret) from gitleaks' maintained default configuration.
//
// It is not a domain package: gitleaks' config package reads its TOML
// through viper, whose dependencies reach net/http. Only the wiring
// (cmd/warden) and tests import it; the detector itself stays pure.
package secretrules

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/viper"
	"github.com/zricethezav/gitleaks/v8/config"

	"github.com/wardenhq/warden/internal/scan"
	"github.com/wardenhq/warden/internal/scan/secret"
)

// Confidences given to gitleaks' rules.
const (
	// ConfidenceFormat is a rule that matches a provider's own format
	// (a fixed prefix, a checksum-like shape).
	ConfidenceFormat = 0.9
	// ConfidenceContext is a rule that takes any value of the right
	// length near the provider's name ("adafruit … = <32 chars>").
	ConfidenceContext = 0.7
	// ConfidenceGeneric is gitleaks' generic-api-key.
	ConfidenceGeneric = 0.5
	// ConfidencePrivateKey is a private key block.
	ConfidencePrivateKey = 0.95
)

// criticalPrefixes are the rule ids (prefixes) whose secrets reach a
// whole cloud account or decrypt data: private keys and cloud providers'
// credentials.
var criticalPrefixes = []string{
	"private-key", "age-secret-key",
	"aws-", "gcp-", "azure-", "alibaba-", "digitalocean-", "cloudflare-", "yandex-",
}

var (
	once    sync.Once
	loaded  []secret.Rule
	errLoad error
)

// Gitleaks returns gitleaks' default rules (the configuration embedded in
// github.com/zricethezav/gitleaks/v8, parsed as gitleaks parses it)
// converted to secret.Rule. Rules that match on a file path are left
// out, as are allowlist conditions on paths and commits (an allowlist
// that needs them can never apply to a string); gitleaks' global
// allowlists are added to every rule. The configuration is parsed once;
// each call returns a fresh copy the caller may change.
func Gitleaks() ([]secret.Rule, error) {
	once.Do(func() { loaded, errLoad = load() })
	if errLoad != nil {
		return nil, errLoad
	}
	out := make([]secret.Rule, len(loaded))
	for i, r := range loaded {
		r.Keywords = slices.Clone(r.Keywords)
		r.Allowlists = slices.Clone(r.Allowlists)
		for j, a := range r.Allowlists {
			a.Regexes = slices.Clone(a.Regexes)
			a.StopWords = slices.Clone(a.StopWords)
			r.Allowlists[j] = a
		}
		out[i] = r
	}
	return out, nil
}

func load() ([]secret.Rule, error) {
	// A viper instance of our own: the package-level one is a global
	// that gitleaks' command line also uses.
	v := viper.New()
	v.SetConfigType("toml")
	if err := v.ReadConfig(strings.NewReader(config.DefaultConfig)); err != nil {
		return nil, fmt.Errorf("read gitleaks default config: %w", err)
	}
	var vc config.ViperConfig
	if err := v.Unmarshal(&vc); err != nil {
		return nil, fmt.Errorf("decode gitleaks default config: %w", err)
	}
	cfg, err := vc.Translate()
	if err != nil {
		return nil, fmt.Errorf("translate gitleaks default config: %w", err)
	}
	global, err := convertAllowlists(cfg.Allowlists)
	if err != nil {
		return nil, fmt.Errorf("gitleaks global allowlists: %w", err)
	}
	var rules []secret.Rule
	for _, r := range cfg.GetOrderedRules() {
		if r.Regex == nil || r.Path != nil || len(r.RequiredRules) > 0 || r.SkipReport {
			// Path rules need a file name; composite rules and
			// report-less parts of them are not in the default set
			// and are not supported.
			continue
		}
		re, err := regexp.Compile(r.Regex.String())
		if err != nil {
			return nil, fmt.Errorf("gitleaks rule %q: %w", r.RuleID, err)
		}
		allow, err := convertAllowlists(r.Allowlists)
		if err != nil {
			return nil, fmt.Errorf("gitleaks rule %q: %w", r.RuleID, err)
		}
		rules = append(rules, secret.Rule{
			ID:          r.RuleID,
			Description: r.Description,
			Regex:       re,
			SecretGroup: r.SecretGroup,
			Entropy:     r.Entropy,
			Keywords:    slices.Clone(r.Keywords),
			Allowlists:  append(allow, global...),
			Severity:    severity(r.RuleID),
			Confidence:  confidence(r.RuleID, re.String()),
			Generic:     strings.Contains(strings.ToLower(r.RuleID), "generic"),
		})
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("gitleaks default config: no content rules")
	}
	return rules, nil
}

// convertAllowlists keeps what applies to a string: regexes and stop
// words. An AND allowlist that also needs a path or a commit is dropped,
// as it can never apply.
func convertAllowlists(in []*config.Allowlist) ([]secret.Allowlist, error) {
	var out []secret.Allowlist
	for _, a := range in {
		if a == nil {
			continue
		}
		and := a.MatchCondition == config.AllowlistMatchAnd
		if and && (len(a.Paths) > 0 || len(a.Commits) > 0) {
			continue
		}
		if len(a.Regexes) == 0 && len(a.StopWords) == 0 {
			continue
		}
		c := secret.Allowlist{RegexTarget: a.RegexTarget, StopWords: slices.Clone(a.StopWords), Condition: secret.ConditionOR}
		if and {
			c.Condition = secret.ConditionAND
		}
		for _, re := range a.Regexes {
			cre, err := regexp.Compile(re.String())
			if err != nil {
				return nil, fmt.Errorf("allowlist regex: %w", err)
			}
			c.Regexes = append(c.Regexes, cre)
		}
		out = append(out, c)
	}
	return out, nil
}

func severity(id string) string {
	for _, p := range criticalPrefixes {
		if strings.HasPrefix(id, p) {
			return scan.Critical
		}
	}
	return scan.High
}

func confidence(id, pattern string) float64 {
	switch {
	case strings.Contains(id, "generic"):
		return ConfidenceGeneric
	case strings.HasPrefix(id, "private-key"):
		return ConfidencePrivateKey
	case strings.Contains(pattern, `[\w.-]{0,50}?(?:`):
		// gitleaks' "keyword near an assignment" template.
		return ConfidenceContext
	}
	return ConfidenceFormat
}
