package unsafe

import (
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/scan"
)

func TestPathTraversal(t *testing.T) {
	const rule = "path-traversal"
	runRuleCases(t, NewUnsafeInput(), scan.Argument, []ruleCase{
		{"climb to passwd", "../../../../etc/passwd", rule, scan.High},
		{"windows climb", `..\..\..\windows\win.ini`, rule, scan.High},
		{"encoded climb to shadow", "%2e%2e%2f%2e%2e%2fetc%2fshadow", rule, scan.Critical},
		{"doubled climb", "....//....//etc/passwd", rule, scan.High},
		{"double encoded", "%252e%252e%252fetc%252fpasswd", rule, scan.High},
		{"overlong utf-8", "..%c0%af..%c0%afetc/passwd", rule, scan.High},
		{"deep climb", "../../../../../tmp/x", rule, scan.Medium},
		{"environ", "/proc/self/environ", rule, scan.High},
		{"ssh key", "~/.ssh/id_rsa", rule, scan.High},
		{"aws credentials", "read ~/.aws/credentials please", rule, scan.High},
		{"sam hive", `C:\Windows\System32\config\SAM`, rule, scan.High},
		{"dotenv in path", "/app/.env", rule, scan.High},
		{"dotenv whole value", ".env", rule, scan.High},
		{"kube token", "/var/run/secrets/kubernetes.io/serviceaccount/token", rule, scan.High},
		{"passwd", "/etc/passwd", rule, scan.Medium},

		{"question", "How do I prevent path traversal in my upload handler?", "", ""},
		{"one level import", "import utils from '../utils'", "", ""},
		{"two levels", "see ../../README.md", "", ""},
		{"ellipsis", "Wait... what happened?", "", ""},
		{"dotenv template", "Copy .env.example to .env and fill in your values.", "", ""},
		{"etc in prose", "the /etc directory holds configuration", "", ""},
		{"range", "versions 1..3 are supported", "", ""},
		{"command prompt", `The prompt says 'C:\Windows\System32>' — how do I change it?`, "", ""},
		{"nginx config", "/etc/nginx/nginx.conf", "", ""},
		{"process env in code", "const key = process.env.API_KEY;", "", ""},
	})
}

// TestPaddingCannotHide: a rule keeps at most maxPerRule matches, but
// mild matches put first cannot crowd out a severe one after them.
func TestPaddingCannotHide(t *testing.T) {
	text := strings.Repeat("see ../../notes ", 3*maxPerRule) + "then ../../../../etc/shadow"
	ms := NewUnsafeInput().Detect(scan.Input{Text: text, Provenance: scan.Argument}, nil)
	if len(ms) > maxPerRule+4 {
		t.Errorf("Detect reported %d matches, want at most %d", len(ms), maxPerRule+4)
	}
	if got := maxSeverity(ms); got != scan.SeverityRank(scan.Critical) {
		t.Errorf("max severity after padding = %d, want critical", got)
	}
}
