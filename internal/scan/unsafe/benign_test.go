package unsafe

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/scan"
)

// benignText builds about n bytes of ordinary agent traffic from a fixed
// seed: JSON arguments, prose, code, shell, SQL, public URLs and
// documentation images. Nothing in it is an attack; it is what the
// detectors see most of the time.
func benignText(n int, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
	words := []string{"the", "report", "customer", "meeting", "deploy", "server", "send", "email", "update", "file",
		"data", "summary", "team", "review", "schedule", "invoice", "project", "release", "notes", "please", "and",
		"with", "for", "after", "before", "change", "request", "ticket", "build", "test", "select", "drop", "table",
		"union", "history", "context", "prompt", "key", "token", "password", "policy", "forward", "share", "post"}
	sentence := func() string {
		var b strings.Builder
		k := 6 + r.IntN(14)
		for i := 0; i < k; i++ {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(pick(words))
		}
		return strings.ToUpper(b.String()[:1]) + b.String()[1:] + pick([]string{".", ".", "?", "!"})
	}
	hosts := []string{"api.example.com", "docs.python.org", "github.com", "en.wikipedia.org", "cdn.jsdelivr.net", "pkg.go.dev", "www.rfc-editor.org"}
	url := func() string {
		u := "https://" + pick(hosts) + "/" + pick([]string{"v2/items", "wiki/Go_(programming_language)", "docs/guide", "repos/acme/tool/issues", "rfc/rfc3986"})
		if r.IntN(2) == 0 {
			u += fmt.Sprintf("?page=%d&sort=%s&q=%s", r.IntN(50), pick([]string{"asc", "desc"}), pick([]string{"weather", "golang+generics", "invoice%20march"}))
		}
		return u
	}
	chunks := []func() string{
		func() string {
			return fmt.Sprintf(`{"query": %q, "limit": %d, "url": %q, "user_id": "usr_%x", "tags": ["a", "b"], "note": %q}`,
				sentence(), r.IntN(100), url(), r.Uint32(), sentence())
		},
		func() string { return sentence() + " " + sentence() + " " + sentence() + "\n\n" },
		func() string {
			return "for i := 0; i < len(xs); i++ {\n\tif xs[i] == want && ok {\n\t\treturn i, nil\n\t}\n}\nconst base = `https://" + pick(hosts) + "/${owner}/${repo}`;\n"
		},
		func() string {
			return "cd build && make test; git commit -m \"fix: handle empty input\" && git push origin main\nls -la | grep .go | wc -l\n"
		},
		func() string {
			return fmt.Sprintf("SELECT id, name FROM users WHERE created_at > '2026-0%d-01' AND status = 'active' ORDER BY id LIMIT %d;\n", 1+r.IntN(9), r.IntN(500))
		},
		func() string {
			return "See [the guide](" + url() + ") and ![build status](https://img.shields.io/badge/build-passing-green?style=flat) for details.\n"
		},
		func() string {
			return fmt.Sprintf("Contact support@%s or open %s; version 1.%d.%d was released on 2026-03-%02d.\n", pick(hosts), url(), r.IntN(20), r.IntN(20), 1+r.IntN(28))
		},
		func() string {
			return "import os, json\npath = os.path.join(base_dir, 'reports', name + '.json')\nwith open(path) as f:\n    data = json.load(f)\n"
		},
	}
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(chunks[r.IntN(len(chunks))]())
		b.WriteByte('\n')
	}
	out := b.String()
	return out[:n]
}

// TestBenignCorpus holds every detector to no finding of medium or more
// on generated benign traffic, in every provenance.
func TestBenignCorpus(t *testing.T) {
	ds := []scan.Detector{NewUnsafeInput(), NewExfiltration(), NewToolPoisoning()}
	for seed := uint64(1); seed <= 8; seed++ {
		text := benignText(16<<10, seed)
		for _, prov := range []scan.Provenance{scan.Argument, scan.Output, scan.ToolDescription} {
			t.Run(fmt.Sprintf("seed=%d/prov=%d", seed, prov), func(t *testing.T) {
				for _, m := range detectAll(text, prov, ds...) {
					if scan.SeverityRank(m.Severity) >= detectAt {
						t.Errorf("%s/%s %s on benign text: %q", m.Category, m.Rule, m.Severity, text[m.Start:m.End])
					}
				}
			})
		}
	}
}
