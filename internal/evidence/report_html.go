package evidence

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"time"
)

//go:embed report.html.tmpl
var reportTemplateText string

// reportTemplate is report.html. html/template escapes every value by
// context: the tenant id, check details, flags and notes come from the
// log and MUST NOT be able to inject markup. The page is self-contained
// (inline CSS, no script, no external resource) and its
// Content-Security-Policy forbids loading anything.
var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"time": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"duration": func(from, to time.Time) string {
		return to.Sub(from).String()
	},
}).Parse(reportTemplateText))

// reportPage is what the template reads: the summary with its criteria
// computed afresh.
type reportPage struct {
	*Summary
	Criteria []Criterion
}

// RenderReport returns report.html: for people, the period, tenant,
// generator and key, the verification verdict (#verdict, with data-ok)
// and its checks (#checks), monitoring coverage and its gaps (#gaps),
// the flags (#flags), and one section per SOC 2 criterion with its
// counts (rows carrying data-count-name) and the files that evidence it.
// The criteria are computed by Criteria(s), not read from s.Criteria, so
// the page always agrees with the summary's counts and verification.
func RenderReport(s *Summary) ([]byte, error) {
	var b bytes.Buffer
	if err := reportTemplate.Execute(&b, reportPage{Summary: s, Criteria: Criteria(s)}); err != nil {
		return nil, fmt.Errorf("render %s: %w", FileReport, err)
	}
	return b.Bytes(), nil
}
