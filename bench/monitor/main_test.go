package main

import (
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/monitor"
)

func TestGeneratorDeterministic(t *testing.T) {
	c := genConfig{seed: 3, agents: 40, tenants: 3, hours: 10, anomalous: 0.5}
	a, b := newGenerator(c), newGenerator(c)
	if len(a.labels) == 0 {
		t.Fatal("no anomaly scheduled")
	}
	for m := range 60 * 7 {
		if x, y := a.minute(m), b.minute(m); !reflect.DeepEqual(x, y) {
			t.Fatalf("minute %d differs between two generators of one seed", m)
		}
	}
	if !reflect.DeepEqual(a.labels[0].toLabel(), b.labels[0].toLabel()) {
		t.Fatal("labels differ between two generators of one seed")
	}
}

func TestDetectSmoke(t *testing.T) {
	g := newGenerator(genConfig{seed: 1, agents: 60, tenants: 3, hours: 16, anomalous: 0.5})
	var labels []label
	for _, a := range g.labels {
		labels = append(labels, a.toLabel())
	}
	minute, i := 0, 0
	var cur []monitor.Observation
	r, err := feed(monitor.DefaultConfig(), func() (*monitor.Observation, error) {
		for i >= len(cur) {
			if minute >= g.minutes {
				return nil, io.EOF
			}
			cur, i = g.minute(minute), 0
			minute++
		}
		i++
		return &cur[i-1], nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s := evaluate(r, labels, monitor.DefaultConfig())
	var out strings.Builder
	s.print(&out)
	if s.cleanBuckets == 0 || len(s.rows) == 0 || !strings.Contains(out.String(), "| false alarms |") {
		t.Fatalf("detect printed:\n%s", out.String())
	}
	detected := 0
	for _, rw := range s.rows {
		detected += rw.detected()
	}
	if detected == 0 {
		t.Fatalf("no injected anomaly was found:\n%s", out.String())
	}
}
