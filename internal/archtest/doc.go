// Package archtest holds the test that enforces the import rules of
// DESIGN.md section 3 over the whole module.
package archtest
