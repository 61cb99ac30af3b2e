package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// lintPolicy builds a policy document from rule lines (already indented
// as list items of rules).
func lintPolicy(rules ...string) string {
	return "name: lint\nrules:\n" + strings.Join(rules, "\n") + "\n"
}

// warnings returns "code:rule" for each warning.
func warnings(t *testing.T, src string) []string {
	t.Helper()
	ws, err := Lint([]byte(src))
	if err != nil {
		t.Fatalf("Lint = %v, want nil\n%s", err, src)
	}
	var out []string
	for _, w := range ws {
		out = append(out, w.Code+":"+w.Rule)
	}
	return out
}

func TestLint(t *testing.T) {
	long := strings.Repeat("a", maxIDLength+1)
	tests := []struct {
		name  string
		rules []string
		want  []string
	}{
		// never-applies
		{"condition false", []string{`  - {id: r, match: {action: fs.read}, when: "false", effect: allow}`}, []string{"never-applies:r"}},
		{"unquoted false", []string{`  - {id: r, match: {action: fs.read}, when: false, effect: allow}`}, []string{"never-applies:r"}},
		{"constant comparison", []string{`  - {id: r, match: {action: fs.read}, when: "1 > 2", effect: allow}`}, []string{"never-applies:r"}},
		{"false conjunct", []string{`  - {id: r, match: {action: fs.read}, when: "args.x == 1 && false", effect: allow}`}, []string{"never-applies:r"}},
		{"condition on args is fine", []string{`  - {id: r, match: {action: fs.read}, when: "args.x == false", effect: allow}`}, nil},
		{"condition true is fine", []string{`  - {id: r, match: {action: fs.read}, when: "true", effect: deny}`}, nil},
		{"upper-case action", []string{`  - {id: r, match: {action: Fs.read}, effect: deny}`}, []string{"never-applies:r"}},
		{"upper-case after a star", []string{`  - {id: r, match: {action: "fs.*X"}, effect: deny}`}, []string{"never-applies:r"}},
		{"double dot", []string{`  - {id: r, match: {action: "fs..read"}, effect: deny}`}, []string{"never-applies:r"}},
		{"leading dot", []string{`  - {id: r, match: {action: ".*"}, effect: deny}`}, []string{"never-applies:r"}},
		{"trailing dot", []string{`  - {id: r, match: {action: "fs.*."}, effect: deny}`}, []string{"never-applies:r"}},
		{"slash in action", []string{`  - {id: r, match: {action: "fs/read"}, effect: deny}`}, []string{"never-applies:r"}},
		{"action too long", []string{`  - {id: r, match: {action: "` + long + `"}, effect: deny}`}, []string{"never-applies:r"}},
		{"star dot star is fine", []string{`  - {id: r, match: {action: "*.*"}, effect: deny}`}, nil},
		{"question marks are fine", []string{`  - {id: r, match: {action: "fs.??"}, effect: deny}`}, nil},
		{"dash and underscore are fine", []string{`  - {id: r, match: {action: "my-fs.read_all"}, effect: deny}`}, nil},
		{"unknown principal type", []string{`  - {id: r, match: {action: fs.read, principal_type: robot}, effect: deny}`}, []string{"never-applies:r"}},
		{"principal type glob that matches one", []string{`  - {id: r, match: {action: fs.read, principal_type: "u*"}, effect: deny}`}, nil},
		{"agent longer than an id", []string{`  - {id: r, match: {action: fs.read, agent: "` + long + `*"}, effect: deny}`}, []string{"never-applies:r"}},
		{"agent as long as an id", []string{`  - {id: r, match: {action: fs.read, agent: "` + long[1:] + `*"}, effect: deny}`}, nil},

		// duplicate
		{"duplicate", []string{
			`  - {id: a, match: {action: fs.read}, when: "args.n > 1", effect: deny}`,
			`  - {id: b, description: same, match: {action: fs.read}, when: "args.n > 1", effect: deny}`,
		}, []string{"duplicate:b"}},
		{"different effect is no duplicate", []string{
			`  - {id: a, match: {action: fs.read}, when: "args.n > 1", effect: deny}`,
			`  - {id: b, match: {action: fs.read}, when: "args.n > 1", effect: require_approval}`,
		}, nil},
		{"different condition is no duplicate", []string{
			`  - {id: a, match: {action: fs.read}, when: "args.n > 1", effect: deny}`,
			`  - {id: b, match: {action: fs.read}, when: "args.n > 2", effect: deny}`,
		}, nil},
		{"different approval is no duplicate", []string{
			`  - {id: a, match: {action: fs.read}, effect: require_approval, approval: {groups: [x]}}`,
			`  - {id: b, match: {action: fs.read}, effect: require_approval, approval: {groups: [y]}}`,
		}, nil},

		// shadowed
		{"broader deny shadows an allow", []string{
			`  - {id: d, match: {action: "fs.*"}, effect: deny}`,
			`  - {id: a, match: {action: fs.read, agent: bot}, effect: allow}`,
		}, []string{"shadowed:a"}},
		{"a later deny shadows too", []string{
			`  - {id: a, match: {action: fs.read}, when: "args.n > 1", effect: require_approval}`,
			`  - {id: d, match: {action: "*"}, effect: deny}`,
		}, []string{"shadowed:a"}},
		{"deny without keys shadows everything", []string{
			`  - {id: d, match: {}, effect: deny}`,
			`  - {id: a, match: {action: fs.read}, when: "args.n > 1", effect: allow}`,
		}, []string{"shadowed:a"}},
		{"deny on every principal type", []string{
			`  - {id: d, match: {action: "fs.*", principal_type: "*e*"}, effect: deny}`,
			`  - {id: a, match: {action: fs.read}, effect: allow}`,
		}, []string{"shadowed:a"}},
		{"conditioned deny does not shadow", []string{
			`  - {id: d, match: {action: "fs.*"}, when: "args.n > 1", effect: deny}`,
			`  - {id: a, match: {action: fs.read}, effect: allow}`,
		}, nil},
		{"narrower deny does not shadow", []string{
			`  - {id: d, match: {action: fs.read}, effect: deny}`,
			`  - {id: a, match: {action: "fs.*"}, effect: allow}`,
		}, nil},
		{"deny with a key the allow lacks does not shadow", []string{
			`  - {id: d, match: {action: "fs.*", agent: "bot-*"}, effect: deny}`,
			`  - {id: a, match: {action: fs.read}, effect: allow}`,
		}, nil},
		{"deny on fewer principal types does not shadow", []string{
			`  - {id: d, match: {action: "fs.*", principal_type: "agent"}, effect: deny}`,
			`  - {id: a, match: {action: fs.read}, effect: allow}`,
		}, nil},
		{"deny on another resource does not shadow", []string{
			`  - {id: d, match: {action: "fs.*", resource: "file:///etc/*"}, effect: deny}`,
			`  - {id: a, match: {action: fs.read, resource: "file:///*"}, effect: allow}`,
		}, nil},
		{"a deny is not reported as shadowed", []string{
			`  - {id: d, match: {action: "fs.*"}, effect: deny}`,
			`  - {id: e, match: {action: fs.read}, effect: deny}`,
		}, nil},
		{"a deny that never applies shadows nothing", []string{
			`  - {id: d, match: {action: "Fs*"}, effect: deny}`,
			`  - {id: a, match: {action: fs.read}, effect: allow}`,
		}, []string{"never-applies:d"}},

		// unconditioned-destructive-allow
		{"allow delete", []string{`  - {id: a, match: {action: files.delete}, effect: allow}`}, []string{"unconditioned-destructive-allow:a"}},
		{"allow every action", []string{`  - {id: a, match: {action: "*"}, effect: allow}`}, []string{"unconditioned-destructive-allow:a"}},
		{"allow without an action", []string{`  - {id: a, match: {agent: trusted}, effect: allow}`}, []string{"unconditioned-destructive-allow:a"}},
		{"allow charges (plural)", []string{`  - {id: a, match: {action: stripe.charges.create}, effect: allow}`}, []string{"unconditioned-destructive-allow:a"}},
		{"allow drop_table", []string{`  - {id: a, match: {action: db.drop_table}, effect: allow}`}, []string{"unconditioned-destructive-allow:a"}},
		{"allow shell", []string{`  - {id: a, match: {action: "shell.*"}, effect: allow}`}, []string{"unconditioned-destructive-allow:a"}},
		{"conditioned destructive allow is fine", []string{`  - {id: a, match: {action: files.delete}, when: "args.path.startsWith('/tmp/')", effect: allow}`}, nil},
		{"destructive approval is fine", []string{`  - {id: a, match: {action: files.delete}, effect: require_approval}`}, nil},
		{"listing charges is fine", []string{`  - {id: a, match: {action: stripe.charges.list}, effect: allow}`}, nil},
		{"reading is fine", []string{`  - {id: a, match: {action: "fs.read"}, effect: allow}`}, nil},
		{"word inside a word is fine", []string{`  - {id: a, match: {action: "docs.format"}, effect: allow}`}, nil},
		{"shadowed destructive allow reports the shadow only", []string{
			`  - {id: d, match: {action: "files.*"}, effect: deny}`,
			`  - {id: a, match: {action: files.delete}, effect: allow}`,
		}, []string{"shadowed:a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := warnings(t, lintPolicy(tt.rules...))
			if !slices.Equal(got, tt.want) {
				t.Errorf("Lint = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLintPositionsAndMessages(t *testing.T) {
	src := "name: lint\nrules:\n  - id: d\n    match: {action: \"fs.*\"}\n    effect: deny\n  - id: a\n    match: {action: fs.read}\n    effect: allow\n"
	ws, err := Lint([]byte(src))
	if err != nil {
		t.Fatalf("Lint = %v, want nil", err)
	}
	if len(ws) != 1 {
		t.Fatalf("Lint = %+v, want one warning", ws)
	}
	w := ws[0]
	if w.Line != 6 || w.Column != 5 || w.Code != LintShadowed || w.Rule != "a" || !strings.Contains(w.Message, `"d"`) {
		t.Errorf("Lint = %+v, want shadowed rule a at 6:5 naming rule d", w)
	}
}

func TestLintBuiltinDefaultIsClean(t *testing.T) {
	ws, err := Lint(BuiltinDefault())
	if err != nil || len(ws) != 0 {
		t.Errorf("Lint(builtin default) = %+v, %v, want no warnings", ws, err)
	}
}

func TestLintInvalid(t *testing.T) {
	_, err := Lint([]byte("name: x\nrules:\n  - {id: a, effect: alow}\n"))
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("Lint(invalid) = %v, want ErrInvalid", err)
	}
}

func TestGlobSubsumes(t *testing.T) {
	tests := []struct {
		super, sub string
		want       bool
	}{
		{"a.*", "a.b", true},
		{"a.b", "a.*", false},
		{"*.read", "fs.read", true},
		{"*.read", "read", false},
		{"fs.read", "*.read", false},
		{"*", "?", true},
		{"?", "*", false},
		{"?", "a", true},
		{"a", "?", false},
		{"a*b", "ab", true},
		{"ab", "a*b", false},
		{"a*b", "a*b", true},
		{"a*b", "a?b", true},
		{"a?b", "a*b", false},
		{"*", "*", true},
		{"*", "anything.at.all", true},
		{"**", "*", true},
		{"*?", "?*", true},
		{"?*", "*?", true},
		{"??*", "?*", false},
		{"?*", "??*", true},
		{"*a*", "*a", true},
		{"*a", "*a*", false},
		{"*a*b*", "*ab*", true},
		{"*ab*", "*a*b*", false},
		{"*ab*", "a*b", false},
		{"fs.*", "fs.read.*", true},
		{"fs.*.read", "fs.a.b.read", true},
		{"fs.*.read", "fs.read", false},
		{"日本*", "日本?", true},
		{"?", "日", true},
		{"??", "日", false},
		{"a*", "b*", false},
	}
	for _, tt := range tests {
		t.Run(tt.super+" ⊇ "+tt.sub, func(t *testing.T) {
			if got := globSubsumes(tt.super, tt.sub); got != tt.want {
				t.Errorf("globSubsumes(%q, %q) = %v, want %v", tt.super, tt.sub, got, tt.want)
			}
		})
	}
}

// TestGlobSubsumesIsSound checks the subsumption against the matcher: if
// super subsumes sub, every string made from sub matches super.
func TestGlobSubsumesIsSound(t *testing.T) {
	globs := []string{"*", "?", "a", "a*", "*a", "a?", "?a", "a*b", "a?b", "*a*", "a.*", "*.b", "??", "?*", "*?*", "ab", "a*a", "*ab*"}
	fills := []string{"", "a", "b", "ab", "ba", "aa", ".", "a.b"}
	for _, super := range globs {
		for _, sub := range globs {
			if !globSubsumes(super, sub) {
				continue
			}
			g, err := compileGlob(super)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range instances(sub, fills) {
				if !g.match(s) {
					t.Errorf("globSubsumes(%q, %q) = true, but %q matches %q and not %q", super, sub, s, sub, super)
				}
			}
		}
	}
}

// instances lists strings matching a glob: each '*' replaced by each
// fill, each '?' by "a" or "b".
func instances(glob string, fills []string) []string {
	out := []string{""}
	for _, c := range glob {
		var alts []string
		switch c {
		case '*':
			alts = fills
		case '?':
			alts = []string{"a", "b"}
		default:
			alts = []string{string(c)}
		}
		var next []string
		for _, prefix := range out {
			for _, a := range alts {
				next = append(next, prefix+a)
			}
		}
		out = next
	}
	return out
}

func TestGlobMeetsActionGrammar(t *testing.T) {
	tests := []struct {
		pattern string
		want    bool
	}{
		{"fs.read", true}, {"*", true}, {"?", true}, {"*.*", true}, {"a.?", true}, {"?.?", true},
		{".", false}, {"?.", false}, {"a.", false}, {".a", false}, {"a..b", false}, {"A", false},
		{"a*B", false}, {"a/b", false}, {"é", false}, {"*..*", false}, {"*.", false},
		{strings.Repeat("a", maxIDLength), true}, {strings.Repeat("a", maxIDLength+1), false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%.20s", tt.pattern), func(t *testing.T) {
			if got := globMeetsActionGrammar(tt.pattern); got != tt.want {
				t.Errorf("globMeetsActionGrammar(%q) = %v, want %v", tt.pattern, got, tt.want)
			}
		})
	}
}
