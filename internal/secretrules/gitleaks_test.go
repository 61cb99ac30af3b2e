package secretrules_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/wardenhq/warden/internal/scan"
	"github.com/wardenhq/warden/internal/scan/secret"
	"github.com/wardenhq/warden/internal/secretrules"
)

func TestGitleaks(t *testing.T) {
	rules, err := secretrules.Gitleaks()
	if err != nil {
		t.Fatalf("Gitleaks() = %v", err)
	}
	if len(rules) < 200 {
		t.Fatalf("Gitleaks() = %d rules, want gitleaks' default set (over 200)", len(rules))
	}
	byID := map[string]secret.Rule{}
	for _, r := range rules {
		if r.ID == "" || r.Regex == nil {
			t.Fatalf("rule %+v: want an id and a regex", r)
		}
		if _, dup := byID[r.ID]; dup {
			t.Fatalf("rule %q twice", r.ID)
		}
		byID[r.ID] = r
	}
	tests := []struct {
		id       string
		present  bool
		severity string
		generic  bool
	}{
		{"aws-access-token", true, scan.Critical, false},
		{"private-key", true, scan.Critical, false},
		{"gcp-api-key", true, scan.Critical, false},
		{"github-pat", true, scan.High, false},
		{"slack-webhook-url", true, scan.High, false},
		{"generic-api-key", true, scan.High, true},
		// Rules on file paths have no meaning for a string.
		{"pkcs12-file", false, "", false},
		{"kubernetes-secret-yaml", false, "", false},
		{"hashicorp-tf-password", false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			r, ok := byID[tt.id]
			if ok != tt.present {
				t.Fatalf("rule %q present = %v, want %v", tt.id, ok, tt.present)
			}
			if ok && (r.Severity != tt.severity || r.Generic != tt.generic || len(r.Keywords) == 0) {
				t.Errorf("rule %q: severity %q generic %v keywords %v, want %q, %v and keywords", tt.id, r.Severity, r.Generic, r.Keywords, tt.severity, tt.generic)
			}
		})
	}
}

func TestGitleaksReturnsCopies(t *testing.T) {
	a, err := secretrules.Gitleaks()
	if err != nil {
		t.Fatal(err)
	}
	orig := slices.Clone(a[0].Keywords)
	a[0].Keywords[0] = "changed"
	a[0].ID = "changed"
	if len(a[0].Allowlists) > 0 && len(a[0].Allowlists[0].StopWords) > 0 {
		a[0].Allowlists[0].StopWords[0] = "changed"
	}
	b, err := secretrules.Gitleaks()
	if err != nil {
		t.Fatal(err)
	}
	if b[0].ID == "changed" || !slices.Equal(b[0].Keywords, orig) {
		t.Errorf("Gitleaks() after a caller changed its copy = %q %v, want %v", b[0].ID, b[0].Keywords, orig)
	}
	for _, al := range b[0].Allowlists {
		if slices.Contains(al.StopWords, "changed") {
			t.Errorf("Gitleaks() shares stop words with an earlier result")
		}
	}
}

func TestGitleaksConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	counts := make([]int, 4)
	for i := range counts {
		wg.Go(func() {
			rules, err := secretrules.Gitleaks()
			if err != nil {
				t.Error(err)
				return
			}
			counts[i] = len(rules)
		})
	}
	wg.Wait()
	for _, n := range counts[1:] {
		if n != counts[0] {
			t.Fatalf("concurrent Gitleaks() = %v rules, want the same count", counts)
		}
	}
}

// TestGitleaksAllowlists checks that gitleaks' allowlists survive the
// conversion: its AWS rule drops AWS's documented example keys, its
// global allowlist drops template values, while a real-looking key is
// found.
func TestGitleaksAllowlists(t *testing.T) {
	rules, err := secretrules.Gitleaks()
	if err != nil {
		t.Fatal(err)
	}
	d, err := secret.New(secret.Options{Rules: rules, DisableGeneral: true, DisableDecoding: true})
	if err != nil {
		t.Fatalf("New(gitleaks rules) = %v", err)
	}
	tests := []struct {
		name, text string
		want       []string // rule ids
	}{
		{"aws example key", "the docs use AKIAIOSFODNN7EXAMPLE as a key", nil},
		{"aws key", "the key is AKIAQ3EGVP7LV5HC6ZYX today", []string{"aws-access-token"}},
		{"generic template value", `api_token = "${API_TOKEN}"`, nil},
		{"generic real value", `api_token = "Zq8v3LmN0pR5tW2yB7dKx"`, []string{"generic-api-key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, m := range d.Detect(scan.Input{Text: tt.text}, nil) {
				got = append(got, m.Rule)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Detect(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}
