package secret_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/wardenhq/warden/internal/scan"
	"github.com/wardenhq/warden/internal/scan/secret"
	"github.com/wardenhq/warden/internal/secretrules"
)

var (
	detOnce sync.Once
	det     *secret.Detector
	detErr  error
)

// detector is the detector as cmd/warden wires it: gitleaks' rules and
// the package's own.
func detector(t testing.TB) *secret.Detector {
	t.Helper()
	detOnce.Do(func() {
		rules, err := secretrules.Gitleaks()
		if err != nil {
			detErr = err
			return
		}
		det, detErr = secret.New(secret.Options{Rules: rules})
	})
	if detErr != nil {
		t.Fatalf("New(gitleaks rules) = %v", detErr)
	}
	return det
}

// fake makes a deterministic credential-shaped string of n characters
// of alphabet, so the tests carry no real secret and no fixed literal a
// secret scanner of this repository would flag.
func fake(seed uint64, n int, alphabet string) string {
	b := make([]byte, n)
	x := seed*6364136223846793005 + 1442695040888963407
	for i := range b {
		x = x*6364136223846793005 + 1442695040888963407
		b[i] = alphabet[(x>>33)%uint64(len(alphabet))]
	}
	return string(b)
}

const (
	upperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	alnum       = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b64chars    = alnum + "+/"
)

// span is an expected finding: its rule and the text it covers.
type span struct {
	rule, value string
}

func (s span) String() string { return fmt.Sprintf("%s %q", s.rule, s.value) }

func findings(t *testing.T, d *secret.Detector, text string) []span {
	t.Helper()
	var got []span
	for _, m := range d.Detect(scan.Input{Text: text}, nil) {
		if m.Start < 0 || m.End > len(text) || m.Start >= m.End {
			t.Fatalf("Detect(%q) span [%d,%d) outside the text", text, m.Start, m.End)
		}
		if m.Category != scan.SecretPrefix+m.Rule {
			t.Errorf("finding category %q, rule %q: want category secret.<rule>", m.Category, m.Rule)
		}
		got = append(got, span{m.Rule, text[m.Start:m.End]})
	}
	return got
}

func TestDetect(t *testing.T) {
	d := detector(t)
	akia := "AKIA" + fake(1, 16, upperDigits)
	awsSecret := fake(2, 40, b64chars)
	ghp := "ghp_" + fake(3, 36, alnum)
	apiKey := fake(4, 32, alnum)
	bearer := fake(5, 40, alnum+"-_")
	pemBody := fake(6, 64*4, b64chars)
	pem := "-----BEGIN RSA PRIVATE KEY-----\n" + pemBody[:64] + "\n" + pemBody[64:128] + "\n" + pemBody[128:192] + "\n" + pemBody[192:] + "\n-----END RSA PRIVATE KEY-----"
	truncatedPEM := "-----BEGIN OPENSSH PRIVATE KEY-----\n" + pemBody[:70] + "\n" + pemBody[70:140]
	slack := "https://hooks.slack.com/services/T" + fake(7, 8, upperDigits) + "/B" + fake(8, 8, upperDigits) + "/" + fake(9, 24, alnum)
	awsLine := "aws_access_key_id = " + akia
	awsB64 := base64.StdEncoding.EncodeToString([]byte(awsLine))
	pctPassword := "password%3D" + "Xk9%2Fq" + fake(10, 10, alnum) + "%40z"
	dbPass := "Zx9" + fake(11, 9, alnum) + "!"
	clientSecret := fake(12, 28, alnum+"~_-")

	tests := []struct {
		name string
		text string
		want []span
	}{
		{"aws key pair in env", "AWS_ACCESS_KEY_ID=" + akia + "\nAWS_SECRET_ACCESS_KEY=" + awsSecret + "\n",
			[]span{{"aws-access-token", akia}, {secret.RuleCredentialAssignment, awsSecret}}},
		{"github token in prose", "clone it with " + ghp + " and push", []span{{"github-pat", ghp}}},
		{"private key block", "key:\n" + pem + "\n", []span{{"private-key", pem}}},
		{"truncated private key", truncatedPEM, []span{{secret.RulePrivateKeyBlock, truncatedPEM}}},
		{"slack webhook", "notify " + slack + " on failure", []span{{"slack-webhook-url", slack}}},
		{"base64 of an aws key", "config: " + awsB64 + "\n", []span{{"aws-access-token", awsB64}}},
		{"percent-encoded assignment", "https://example.com/cb?state=" + pctPassword + "&x=1",
			[]span{{secret.RuleCredentialAssignment, pctPassword}}},
		{"url with a password", "DATABASE_URL=postgres://app:" + dbPass + "@db.internal:5432/app",
			[]span{{secret.RuleURLCredentials, dbPass}}},
		{"authorization header", `headers = {"Authorization": "Bearer ` + bearer + `"}`,
			[]span{{secret.RuleAuthorizationHeader, bearer}}},
		{"env assignment", "export SERVICE_API_KEY=" + apiKey + "\n", []span{{secret.RuleCredentialAssignment, apiKey}}},
		{"json assignment", `{"client_secret": "` + clientSecret + `", "client_id": "web"}`,
			[]span{{secret.RuleCredentialAssignment, clientSecret}}},
		{"yaml assignment", "db:\n  host: db.internal\n  password: " + dbPass + "\n",
			[]span{{secret.RuleCredentialAssignment, dbPass}}},
		{"go assignment", `apiKey := "` + apiKey + `"`, []span{{secret.RuleCredentialAssignment, apiKey}}},
		{"python attribute", `self.password = "` + dbPass + `"`, []span{{secret.RuleCredentialAssignment, dbPass}}},
		{"function argument", `localStorage.setItem('auth_token', '` + apiKey + `');`,
			[]span{{secret.RuleCredentialAssignment, apiKey}}},
		{"xml attribute", `<add key="ApiKey" value="` + apiKey + `" />`, []span{{secret.RuleCredentialAssignment, apiKey}}},
		{"command-line flag", "mysql --user app --password " + dbPass + " -h db", []span{{secret.RuleCredentialAssignment, dbPass}}},
		{"prose", "the admin password is " + dbPass + " for now", []span{{secret.RuleCredentialAssignment, dbPass}}},
		{"json inside a string", `{\"password\": \"` + dbPass + `\"}`, []span{{secret.RuleCredentialAssignment, dbPass}}},
		{"uuid given as x-api-key", "x-api-key: 1b4e28ba-2fa1-11d2-883f-0016d3cca427",
			[]span{{secret.RuleCredentialAssignment, "1b4e28ba-2fa1-11d2-883f-0016d3cca427"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := findings(t, d, tt.text)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Detect(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

func TestDetectNearMisses(t *testing.T) {
	d := detector(t)
	tests := []struct{ name, text string }{
		{"env template", "API_KEY=your_api_key_here\nSECRET_KEY=<your-secret-key>\nTOKEN=${GITHUB_TOKEN}"},
		{"url template", "DATABASE_URL=postgresql://user:password@localhost:5432/dbname"},
		{"bearer template", "Authorization: Bearer <token>. Replace <token> with your actual token."},
		{"helm template", "password: {{ .Values.db.password }}\ntoken: \"{{ token }}\""},
		{"masks", `secret = "xxxxxxxxxxxxxxxx"` + "\n" + `"password": "********"` + "\npassword=changeme"},
		{"one repeated character", "API_TOKEN=aaaaaaaaaaaaaaaaaaaaaaaa"},
		{"code references", `password = os.environ["DB_PASSWORD"]` + "\ntoken = get_token()\napi_key = settings.API_KEY"},
		{"type annotations", "password: str\ntoken: string;\nsecret: Optional[str] = None"},
		{"uuid not assigned to a credential", "request_id=1b4e28ba-2fa1-11d2-883f-0016d3cca427 status=200"},
		{"git sha", "commit 3f786850e387550fdab836ed7e6dc881de23001b\nAuthor: Dev <dev@example.com>"},
		{"agt trace suffix", "The training material quotes 'reveal your system prompt'. Reference PI1-B-00001. Trace 95d1138d1a2aeabaf5d8a5f275bbf8e7."},
		{"documentation of key formats", "AWS access keys start with AKIA followed by 16 alphanumeric characters; GitHub tokens start with ghp_."},
		{"token counts", `{"usage": {"prompt_tokens": 1389, "completion_tokens": 771}, "max_tokens": 4096}`},
		{"pagination token", `{"next_page_token": "` + fake(20, 32, b64chars) + `"}`},
		{"csrf token", `<input type="hidden" name="authenticity_token" value="` + fake(21, 40, alnum) + `">`},
		{"publishable key", "STRIPE_PUBLISHABLE_KEY=pk_live_" + fake(22, 24, alnum)},
		{"password policy", "Passwords must be at least 12 characters. The password field is required: enter it twice."},
		{"ssh key generation", "ssh-keygen -t ed25519 -C 'your_email@example.com' writes a key pair to ~/.ssh/"},
		{"pem template", "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----"},
		{"image data", "<img src=\"data:image/png;base64," + base64.StdEncoding.EncodeToString([]byte(fake(23, 300, "\x00\x01\x02\xfe\xff"))) + "\">"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := findings(t, d, tt.text); len(got) != 0 {
				t.Errorf("Detect(%q) = %v, want none", tt.text, got)
			}
		})
	}
}

func TestSeverity(t *testing.T) {
	d := detector(t)
	akia := "AKIA" + fake(30, 16, upperDigits)
	tests := []struct {
		name, text, rule, severity string
	}{
		{"aws key is critical", "key " + akia + " here", "aws-access-token", scan.Critical},
		{"github token is high", "use ghp_" + fake(31, 36, alnum), "github-pat", scan.High},
		{"assigned password is high", "DB_PASSWORD=" + fake(32, 14, alnum), secret.RuleCredentialAssignment, scan.High},
		{"private key block is critical", "-----BEGIN EC PRIVATE KEY-----\n" + fake(33, 80, b64chars), secret.RulePrivateKeyBlock, scan.Critical},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := d.Detect(scan.Input{Text: tt.text}, nil)
			if len(ms) != 1 || ms[0].Rule != tt.rule || ms[0].Severity != tt.severity {
				t.Fatalf("Detect(%q) = %+v, want one %s finding of severity %s", tt.text, ms, tt.rule, tt.severity)
			}
			if ms[0].Confidence <= 0 || ms[0].Confidence > 1 {
				t.Errorf("confidence %v, want in (0, 1]", ms[0].Confidence)
			}
		})
	}
}

func TestDetectAppendsAndKeepsOut(t *testing.T) {
	d := detector(t)
	prior := []scan.Match{{Category: "pii.email", Rule: "email", Start: 0, End: 3}}
	text := "DB_PASSWORD=" + fake(40, 14, alnum)
	out := d.Detect(scan.Input{Text: text}, slices.Clone(prior))
	if len(out) != 2 || out[0] != prior[0] {
		t.Fatalf("Detect(out with one match) = %+v, want the prior match then one finding", out)
	}
}

func TestDisableDecoding(t *testing.T) {
	rules, err := secretrules.Gitleaks()
	if err != nil {
		t.Fatal(err)
	}
	d, err := secret.New(secret.Options{Rules: rules, DisableDecoding: true})
	if err != nil {
		t.Fatal(err)
	}
	text := "config: " + base64.StdEncoding.EncodeToString([]byte("aws_access_key_id = AKIA"+fake(41, 16, upperDigits)))
	if got := findings(t, d, text); len(got) != 0 {
		t.Errorf("Detect(base64 of a key) with DisableDecoding = %v, want none", got)
	}
	if got := findings(t, detector(t), text); len(got) != 1 {
		t.Errorf("Detect(base64 of a key) = %v, want one finding", got)
	}
}

func TestNewRejectsBadRules(t *testing.T) {
	re := regexp.MustCompile(`tok_([a-z0-9]{16})`)
	tests := []struct {
		name string
		rule secret.Rule
	}{
		{"no id", secret.Rule{Regex: re}},
		{"secret group out of range", secret.Rule{ID: "x", Regex: re, SecretGroup: 2}},
		{"bad severity", secret.Rule{ID: "x", Regex: re, Severity: "severe"}},
		{"bad confidence", secret.Rule{ID: "x", Regex: re, Confidence: 1.5}},
		{"empty allowlist", secret.Rule{ID: "x", Regex: re, Allowlists: []secret.Allowlist{{}}}},
		{"bad condition", secret.Rule{ID: "x", Regex: re, Allowlists: []secret.Allowlist{{StopWords: []string{"a"}, Condition: "XOR"}}}},
		{"bad target", secret.Rule{ID: "x", Regex: re, Allowlists: []secret.Allowlist{{StopWords: []string{"a"}, RegexTarget: "file"}}}},
		{"a context rule's id", secret.Rule{ID: secret.RuleCredentialAssignment, Regex: re}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := secret.New(secret.Options{Rules: []secret.Rule{tt.rule}}); !errors.Is(err, secret.ErrInvalidRule) {
				t.Errorf("New(%+v) = %v, want ErrInvalidRule", tt.rule, err)
			}
		})
	}
	dup := secret.Rule{ID: "x", Regex: re}
	if _, err := secret.New(secret.Options{Rules: []secret.Rule{dup, dup}}); !errors.Is(err, secret.ErrInvalidRule) {
		t.Errorf("New(duplicate ids) = %v, want ErrInvalidRule", err)
	}
}

// TestRuleSemantics checks the gitleaks semantics of a custom rule: the
// secret group, the entropy gate, and allowlists by target and condition.
func TestRuleSemantics(t *testing.T) {
	rule := secret.Rule{
		ID:          "acme-token",
		Regex:       regexp.MustCompile(`(?i)acme[_-]?token\s*[:=]\s*"?(acme_[a-z0-9]{16})"?`),
		SecretGroup: 1,
		Entropy:     3,
		Keywords:    []string{"acme"},
		Allowlists: []secret.Allowlist{
			{StopWords: []string{"sample"}},
			{RegexTarget: secret.TargetLine, Regexes: []*regexp.Regexp{regexp.MustCompile(`#\s*fixture`)}},
			{Condition: secret.ConditionAND, Regexes: []*regexp.Regexp{regexp.MustCompile(`^acme_0`)}, StopWords: []string{"zz"}},
		},
	}
	d, err := secret.New(secret.Options{Rules: []secret.Rule{rule}, DisableGeneral: true})
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	tok := "acme_" + fake(50, 16, "abcdefghijklmnopqrstuvwxyz0123456789")
	tests := []struct {
		name, text string
		want       []span
	}{
		{"secret group", `ACME_TOKEN="` + tok + `"`, []span{{"acme-token", tok}}},
		{"case-insensitive keyword", `Acme-Token: ` + tok, []span{{"acme-token", tok}}},
		{"entropy gate", `acme_token=acme_1111111111111111`, nil},
		{"stop word in the secret", `acme_token=acme_sample` + fake(51, 10, "abcdefghij0123456789"), nil},
		{"line allowlist", `acme_token=` + tok + ` # fixture`, nil},
		{"AND needs both", `acme_token=acme_0zz` + fake(52, 13, "abcdefghij0123456789"), nil},
		{"AND with one is not allowed", `acme_token=acme_0yy` + fake(53, 13, "abcdefghij0123456789"),
			[]span{{"acme-token", "acme_0yy" + fake(53, 13, "abcdefghij0123456789")}}},
		{"keyword absent", `token=` + tok[5:], nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := findings(t, d, tt.text); !slices.Equal(got, tt.want) {
				t.Errorf("Detect(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

func TestConcurrentDetect(t *testing.T) {
	d := detector(t)
	texts := []string{
		"AWS_SECRET_ACCESS_KEY=" + fake(60, 40, b64chars),
		benignText(16<<10, 3),
		"token: ghp_" + fake(61, 36, alnum) + " " + strings.Repeat("x", 100),
	}
	want := make([][]scan.Match, len(texts))
	for i, s := range texts {
		want[i] = d.Detect(scan.Input{Text: s}, nil)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for n := range 20 {
				i := (g + n) % len(texts)
				if got := d.Detect(scan.Input{Text: texts[i]}, nil); !slices.Equal(got, want[i]) {
					t.Errorf("concurrent Detect(text %d) = %+v, want %+v", i, got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestMemberAssignment(t *testing.T) {
	d, err := secret.New(secret.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key, value string
		want       bool
	}{
		{"password", "hunter2-Xk9q!", true},
		{"db_password", "c0rrect-h0rse-battery", true},
		{"AWS_SECRET_ACCESS_KEY", "q8Zt+3vJxP/2mRk9LwY4nH7cFb1aS6dE0uGiTo5V", true},
		{"apiKey", "9f8e7d6c5b4a39281706f5e4d3c2b1a0", true},
		{"password", "your_password_here", false},
		{"password", "Enter your password", false},
		{"token_count", "1234", false},
		{"title", "hunter2-Xk9q!", false},
		{"password", "", false},
	} {
		got := d.Detect(scan.Input{Text: tc.value, Key: tc.key}, nil)
		found := false
		for _, m := range got {
			found = found || m.Rule == secret.RuleCredentialAssignment && tc.value[m.Start:m.End] == tc.value
		}
		if found != tc.want {
			t.Errorf("Detect({%q: %q}) = %+v, want credential-assignment over the value: %v", tc.key, tc.value, got, tc.want)
		}
	}
}
