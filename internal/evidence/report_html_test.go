package evidence

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// chromiumPath is Debian's chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// hostileSummary fills every field a page shows from data with markup.
func hostileSummary() *Summary {
	s := soc2Summary()
	s.Tenant = `<script>alert("tenant")</script>`
	s.Generator = `warden "0.9" <b>`
	s.KeyName = `k' onmouseover='alert(1)`
	s.Flags = []string{`policy <img src=x onerror=alert(1)> version 2 was activated without a second approver`}
	s.Verification = Verification{OK: false, Checks: []Check{
		{Name: "manifest signature", OK: true},
		{Name: `chain</td><script>alert(2)</script>`, OK: false, Detail: `entry 7 "edited" & <i>re-signed</i>`},
	}}
	return s
}

var reportHeadings = []string{
	"Verification", "Monitoring coverage", "Flags",
	"CC6 — Logical access", "CC7 — System operations", "CC8 — Change management",
	"A1 — Availability", "PI1 — Processing integrity", "C1 — Confidentiality",
}

func TestRenderReportEscapes(t *testing.T) {
	s := hostileSummary()
	b, err := RenderReport(s)
	if err != nil {
		t.Fatalf("RenderReport = %v", err)
	}
	page := string(b)
	for _, raw := range []string{"<script", "<img", "<b>", "<i>", "onmouseover='", `"0.9"`} {
		if strings.Contains(page, raw) {
			t.Errorf("RenderReport holds %q unescaped", raw)
		}
	}
	if !strings.Contains(page, "&lt;script&gt;alert(&#34;tenant&#34;)&lt;/script&gt;") {
		t.Errorf("RenderReport does not hold the tenant escaped")
	}
	dom := parseDOM(t, page)
	if got := dom.byID(t, "tenant").textContent(); got != s.Tenant {
		t.Errorf("tenant text = %q, want %q", got, s.Tenant)
	}
	if got := dom.byID(t, "key").textContent(); got != s.KeyName {
		t.Errorf("key text = %q, want %q", got, s.KeyName)
	}
	if n := len(dom.byTag("script")) + len(dom.byTag("img")) + len(dom.byTag("link")); n != 0 {
		t.Errorf("page has %d script, img or link elements, want none", n)
	}
	for _, e := range dom.find(func(*domNode) bool { return true }) {
		for a := range e.attrs {
			if strings.HasPrefix(a, "on") {
				t.Errorf("<%s> has event handler attribute %s", e.tag, a)
			}
		}
	}
	checkReportDOM(t, dom, s)
}

func TestRenderReportSelfContained(t *testing.T) {
	b, err := RenderReport(soc2Summary())
	if err != nil {
		t.Fatalf("RenderReport = %v", err)
	}
	dom := parseDOM(t, string(b))
	for _, e := range dom.find(func(*domNode) bool { return true }) {
		for _, a := range []string{"src", "href", "action", "srcset"} {
			if v, ok := e.attrs[a]; ok {
				t.Errorf("<%s %s=%q> loads or links a resource", e.tag, a, v)
			}
		}
	}
	checkReportDOM(t, dom, soc2Summary())
}

// TestReportChromium opens report.html in headless Chromium and asserts
// the headings, per-criterion counts and verdict of the DOM it builds.
// Without /usr/bin/chromium it skips, unless WARDEN_TEST_CHROMIUM is set
// (CI sets it), when it fails.
func TestReportChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if _, required := os.LookupEnv("WARDEN_TEST_CHROMIUM"); required {
			t.Fatalf("WARDEN_TEST_CHROMIUM is set and %s is missing: %v", chromiumPath, err)
		}
		t.Skipf("%s not found (apt-get install chromium); set WARDEN_TEST_CHROMIUM=1 to fail instead of skipping", chromiumPath)
	}
	tests := []struct {
		name string
		s    *Summary
	}{
		{"verified", soc2Summary()},
		{"failed and hostile", hostileSummary()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dom := parseDOM(t, dumpDOM(t, tt.s))
			checkReportDOM(t, dom, tt.s)
			if got := dom.byID(t, "tenant").textContent(); got != tt.s.Tenant {
				t.Errorf("tenant text in Chromium = %q, want %q", got, tt.s.Tenant)
			}
			if n := len(dom.byTag("script")); n != 0 {
				t.Errorf("Chromium's DOM has %d script elements, want none", n)
			}
		})
	}
}

// dumpDOM writes s's report to a file and returns the DOM Chromium
// serializes after loading it.
func dumpDOM(t *testing.T, s *Summary) string {
	t.Helper()
	b, err := RenderReport(s)
	if err != nil {
		t.Fatalf("RenderReport = %v", err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, FileReport)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	profile := filepath.Join(dir, "profile")
	cmd := exec.CommandContext(ctx, chromiumPath,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+profile, "--dump-dom", "file://"+path)
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_CACHE_HOME="+dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium --dump-dom %s: %v\n%s", path, err, tail(stderr.String(), 2000))
	}
	if !strings.Contains(stdout.String(), `id="verdict"`) {
		t.Fatalf("chromium --dump-dom %s printed no report:\n%s\nstderr:\n%s", path, tail(stdout.String(), 2000), tail(stderr.String(), 2000))
	}
	return stdout.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// checkReportDOM asserts what a page shows of s: the headings in order,
// the verdict and checks, the gaps and flags, and each criterion's counts
// (as Criteria computes them) and files.
func checkReportDOM(t *testing.T, dom *domNode, s *Summary) {
	t.Helper()
	var headings []string
	for _, h := range dom.byTag("h2") {
		headings = append(headings, h.textContent())
	}
	if strings.Join(headings, "|") != strings.Join(reportHeadings, "|") {
		t.Errorf("h2 headings = %q, want %q", headings, reportHeadings)
	}
	if titles := dom.byTag("title"); len(titles) != 1 || !strings.Contains(titles[0].textContent(), s.Tenant) {
		t.Errorf("title does not name tenant %q", s.Tenant)
	}

	verdict := dom.byID(t, "verdict")
	if got, want := verdict.attrs["data-ok"], strconv.FormatBool(s.Verification.OK); got != want {
		t.Errorf("#verdict data-ok = %q, want %q", got, want)
	}
	wantVerdict := "Not verified"
	if s.Verification.OK {
		wantVerdict = "Verified"
	}
	if got := verdict.textContent(); !strings.HasPrefix(got, wantVerdict) {
		t.Errorf("#verdict text = %q, want it to begin %q", got, wantVerdict)
	}
	rows := dom.byID(t, "checks").find(func(n *domNode) bool { _, ok := n.attrs["data-check"]; return n.tag == "tr" && ok })
	if len(rows) != len(s.Verification.Checks) {
		t.Fatalf("#checks rows = %d, want %d", len(rows), len(s.Verification.Checks))
	}
	for i, c := range s.Verification.Checks {
		if rows[i].attrs["data-check"] != c.Name || rows[i].attrs["data-ok"] != strconv.FormatBool(c.OK) {
			t.Errorf("#checks row %d = %q ok=%s, want %q ok=%t", i, rows[i].attrs["data-check"], rows[i].attrs["data-ok"], c.Name, c.OK)
		}
	}

	gaps := dom.byID(t, "gaps").find(func(n *domNode) bool { return n.tag == "li" && n.attrs["class"] != "none" })
	if len(gaps) != len(s.Heartbeats.Gaps) {
		t.Errorf("#gaps items = %d, want %d", len(gaps), len(s.Heartbeats.Gaps))
	}
	for i, g := range s.Heartbeats.Gaps {
		if i < len(gaps) && !strings.Contains(gaps[i].textContent(), g.From.UTC().Format(time.RFC3339)) {
			t.Errorf("#gaps item %d = %q, want it to name %s", i, gaps[i].textContent(), g.From.UTC().Format(time.RFC3339))
		}
	}
	flags := dom.byID(t, "flags").find(func(n *domNode) bool { return n.tag == "li" && n.attrs["class"] != "none" })
	if len(flags) != len(s.Flags) {
		t.Fatalf("#flags items = %d, want %d", len(flags), len(s.Flags))
	}
	for i, f := range s.Flags {
		if got := flags[i].textContent(); got != strings.Join(strings.Fields(f), " ") {
			t.Errorf("#flags item %d = %q, want %q", i, got, f)
		}
	}

	for _, c := range Criteria(s) {
		sections := dom.find(func(n *domNode) bool { return n.tag == "section" && n.attrs["data-criterion"] == c.ID })
		if len(sections) != 1 {
			t.Errorf("sections of %s = %d, want 1", c.ID, len(sections))
			continue
		}
		sec := sections[0]
		rows := sec.find(func(n *domNode) bool { _, ok := n.attrs["data-count-name"]; return n.tag == "tr" && ok })
		if len(rows) != len(c.Counts) {
			t.Errorf("count rows of %s = %d, want %d", c.ID, len(rows), len(c.Counts))
			continue
		}
		for i, n := range c.Counts {
			cells := rows[i].byTag("td")
			if rows[i].attrs["data-count-name"] != n.Name || len(cells) != 2 || cells[1].textContent() != strconv.FormatInt(n.N, 10) {
				t.Errorf("count row %d of %s = %q %v, want %q with %d", i, c.ID, rows[i].attrs["data-count-name"], rows[i].textContent(), n.Name, n.N)
			}
		}
		if want, ok := soc2Want[c.ID]; ok && s.Tenant == "acme" {
			for _, r := range rows {
				if got, _ := strconv.ParseInt(r.byTag("td")[1].textContent(), 10, 64); got != want[r.attrs["data-count-name"]] {
					t.Errorf("%s %s = %d, want %d", c.ID, r.attrs["data-count-name"], got, want[r.attrs["data-count-name"]])
				}
			}
		}
		var files []string
		for _, f := range sec.find(func(n *domNode) bool { return n.tag == "code" && n.attrs["class"] == "file" }) {
			files = append(files, f.textContent())
		}
		if strings.Join(files, ",") != strings.Join(c.Files, ",") {
			t.Errorf("files of %s = %v, want %v", c.ID, files, c.Files)
		}
	}
}
