package secret

import "testing"

func TestAnalyzePlans(t *testing.T) {
	tests := []struct {
		name     string
		pattern  string
		keywords []string
		want     plan
	}{
		{"prefix token", `ghp_[0-9a-zA-Z]{36}`, []string{"ghp_"}, planLed},
		{"gitleaks template", `(?i)[\w.-]{0,50}?(?:adafruit)(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>)([a-z0-9_-]{32})`, []string{"adafruit"}, planLed},
		{"alternated prefixes", `(?:ghu|ghs)_[0-9a-zA-Z]{36}`, []string{"ghu_", "ghs_"}, planLed},
		{"word boundary first", `\b(p8e-(?i)[a-z0-9]{32})(?:[\x60'"\s;]|$)`, []string{"p8e-"}, planLed},
		{"keyword inside, bounded", `https://[a-z]{3,10}\.slack\.com/[a-z]{5}`, []string{"slack.com"}, planWindowed},
		// An unescaped dot matches any character: the keyword is not
		// proven to be in the match.
		{"unescaped dot", `https://[a-z]{3,10}.slack.com/[a-z]{5}`, []string{"slack.com"}, planFull},
		{"keyword not in the match", `\b(pat[[:alnum:]]{14}\.[a-f0-9]{64})\b`, []string{"airtable"}, planFull},
		{"unbounded, keyword inside", `[a-z]+token[a-z]+`, []string{"token"}, planFull},
		{"greedy prefix", `[\w.-]{0,50}(?:adafruit)=([a-z0-9]{32})`, []string{"adafruit"}, planWindowed},
		{"no keywords", `abc[0-9]{4}`, nil, planFull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := analyze(tt.pattern, tt.keywords); got.plan != tt.want {
				t.Errorf("analyze(%q, %q) plan = %d, want %d", tt.pattern, tt.keywords, got.plan, tt.want)
			}
		})
	}
}

func TestSkeleton(t *testing.T) {
	r := analyze(`(?i)[\w.-]{0,50}?(?:token|key)(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|:)[\x60'"\s=]{0,5}([a-z0-9]{10,})(?:[\x60'"\s;]|$)`, []string{"token", "key"})
	if r.plan != planLed {
		t.Fatalf("plan = %d, want led", r.plan)
	}
	tests := []struct {
		text string
		want bool
	}{
		{`token = "abcdef0123456789"`, true},
		{`token: abcdef0123456789`, true},
		{`key=abcdef0123456789`, true},
		{`tokens": 1389, "x"`, false},    // value too short
		{`key, value := range m`, false}, // no operator the rule knows
		{`token expires after one hour`, false},
		{`token=abcdef0123456789(`, false}, // no terminator
	}
	for _, tt := range tests {
		if got, _ := r.skel.mayMatch(tt.text, 0); got != tt.want {
			t.Errorf("mayMatch(%q) = %v, want %v", tt.text, got, tt.want)
		}
		if tt.want && r.led.FindStringIndex(tt.text) == nil {
			t.Errorf("test case %q: the regex itself does not match", tt.text)
		}
	}
}
