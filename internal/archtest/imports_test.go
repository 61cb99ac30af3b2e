package archtest

import (
	"bufio"
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/wardenhq/warden"

// layers lists the internal packages from the edge down (DESIGN.md
// section 3). access sits above policy: an agent key's bindings are
// globs of the policy grammar. A domain package may import only Warden packages listed
// after it, and never a store, api, mcp or client.
var layers = []string{
	"internal/api", "internal/mcp", "internal/notify", "internal/gate",
	"internal/controls", "internal/limits", "internal/approval", "internal/monitor",
	"internal/evidence", "internal/retention", "internal/access", "internal/policy", "internal/scan",
	"internal/event", "internal/ledger", "internal/cluster",
}

// domain packages are pure: no HTTP, no SQL.
var domain = []string{
	"internal/gate", "internal/controls", "internal/limits", "internal/approval", "internal/monitor",
	"internal/evidence", "internal/retention", "internal/policy", "internal/scan", "internal/access", "internal/event", "internal/ledger",
	"internal/cluster",
}

// httpAllowed may speak HTTP (plus cmd/, which wires the server).
var httpAllowed = []string{"internal/api", "internal/mcp", "internal/notify", "client"}

// sqlDrivers are module prefixes of SQL drivers.
var sqlDrivers = []string{"modernc.org/sqlite", "github.com/jackc/pgx", "github.com/lib/pq", "github.com/mattn/go-sqlite3"}

type pkg struct {
	path    string   // relative to the module, e.g. internal/ledger
	imports []string // direct imports, full paths
	deps    []string // transitive dependencies, full paths
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Imports \",\"}}|{{join .Deps \",\"}}", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), "|", 3)
		if len(parts) != 3 {
			t.Fatalf("go list: unexpected line %q", sc.Text())
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(parts[0], module), "/")
		pkgs = append(pkgs, pkg{path: rel, imports: split(parts[1]), deps: split(parts[2])})
	}
	if len(pkgs) == 0 {
		t.Fatal("go list found no packages")
	}
	return pkgs
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// under reports whether rel is dir or inside it.
func under(rel, dir string) bool { return rel == dir || strings.HasPrefix(rel, dir+"/") }

func group(rel string, dirs []string) (string, bool) {
	for _, d := range dirs {
		if under(rel, d) {
			return d, true
		}
	}
	return "", false
}

func isStore(rel string) bool {
	return under(rel, "internal/store") && !under(rel, "internal/store/storetest")
}

// violations returns every broken rule, as "pkg: reason".
func violations(pkgs []pkg) []string {
	var bad []string
	for _, p := range pkgs {
		for _, imp := range p.imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			dep := strings.TrimPrefix(imp, module+"/")
			if d, ok := group(p.path, domain); ok {
				if isStore(dep) || under(dep, "client") || under(dep, "internal/api") || under(dep, "internal/mcp") {
					bad = append(bad, p.path+": domain package imports "+dep)
				}
				if dl, ok := group(dep, layers); ok && dl != d && slices.Index(layers, dl) < slices.Index(layers, d) {
					bad = append(bad, p.path+": imports "+dep+", which is above it")
				}
			}
			if (under(p.path, "internal/api") || under(p.path, "internal/mcp")) && isStore(dep) {
				bad = append(bad, p.path+": edge imports store "+dep)
			}
			if isStore(p.path) {
				if under(dep, "internal/gate") || under(dep, "internal/api") || under(dep, "internal/mcp") {
					bad = append(bad, p.path+": store imports "+dep)
				}
				if isStore(dep) && storeRoot(dep) != storeRoot(p.path) {
					bad = append(bad, p.path+": store imports another store "+dep)
				}
			}
		}
		if _, ok := group(p.path, domain); ok {
			for _, d := range p.deps {
				if d == "net/http" || d == "database/sql" {
					bad = append(bad, p.path+": domain package depends on "+d)
				}
				for _, drv := range sqlDrivers {
					if strings.HasPrefix(d, drv) {
						bad = append(bad, p.path+": domain package depends on SQL driver "+d)
					}
				}
			}
		}
		// cmd wires the server; bench drives it from outside as a load
		// generator. Neither is part of the product's layering.
		if _, ok := group(p.path, httpAllowed); !ok && !under(p.path, "cmd") && !under(p.path, "bench") && slices.Contains(p.imports, "net/http") {
			bad = append(bad, p.path+": imports net/http; only api, mcp, notify, client and cmd speak HTTP")
		}
	}
	return bad
}

func storeRoot(rel string) string {
	parts := strings.Split(rel, "/")
	if len(parts) >= 3 {
		return strings.Join(parts[:3], "/")
	}
	return rel
}

func TestImportRules(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go tool is not on PATH: cannot list packages")
	}
	for _, v := range violations(listPackages(t)) {
		t.Error(v)
	}
}

// TestImportRulesCatchViolations proves the checker is not vacuous: each
// rule fires on a package graph that breaks it.
func TestImportRulesCatchViolations(t *testing.T) {
	m := func(rel string) string { return module + "/" + rel }
	tests := []struct {
		name string
		pkgs []pkg
		want string
	}{
		{"ledger imports api", []pkg{{path: "internal/ledger", imports: []string{m("internal/api")}}}, "domain package imports internal/api"},
		{"ledger imports event (above it)", []pkg{{path: "internal/ledger", imports: []string{m("internal/event")}}}, "above it"},
		{"policy depends on net/http", []pkg{{path: "internal/policy", deps: []string{"net/http"}}}, "depends on net/http"},
		{"scan depends on a driver", []pkg{{path: "internal/scan", deps: []string{"modernc.org/sqlite/lib"}}}, "SQL driver"},
		{"api imports a store", []pkg{{path: "internal/api", imports: []string{m("internal/store/sqlite")}}}, "edge imports store"},
		{"store imports gate", []pkg{{path: "internal/store/sqlite", imports: []string{m("internal/gate")}}}, "store imports"},
		{"store imports store", []pkg{{path: "internal/store/postgres", imports: []string{m("internal/store/sqlite")}}}, "another store"},
		{"monitor speaks http", []pkg{{path: "internal/monitor", imports: []string{"net/http"}}}, "imports net/http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := violations(tt.pkgs)
			if !slices.ContainsFunc(got, func(v string) bool { return strings.Contains(v, tt.want) }) {
				t.Errorf("violations(%s) = %q, want one containing %q", tt.name, got, tt.want)
			}
		})
	}
	clean := []pkg{{path: "internal/event", imports: []string{m("internal/ledger")}, deps: []string{"database/sql/driver"}}}
	if got := violations(clean); len(got) != 0 {
		t.Errorf("violations(event imports ledger) = %q, want none", got)
	}
}
