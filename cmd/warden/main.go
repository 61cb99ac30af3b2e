// Command warden is Warden's one binary: the server (serve) and the tools
// that operators and auditors run against it or its data directory.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Exit codes (DESIGN.md section 4): 0 verified / success, 1 integrity
// failure, 2 usage or I/O error.
const (
	exitOK        = 0
	exitIntegrity = 1
	exitUsage     = 2
)

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// version is set at link time (-ldflags "-X main.version=v1.2.3").
var version = ""

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "warden",
		Short: "Warden decides, records and watches what AI agents do",
		Long: `Warden is a control plane for AI agents: it authorizes tool calls against a
policy, records every decision in a tamper-evident Merkle log with signed
checkpoints, and produces evidence that an auditor verifies offline.

Start a server with 'warden serve'; verify a log with 'warden log verify'.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCmd(), newVersionCmd(), newKeygenCmd(), newLogCmd(), newMigrateCmd(), newBackupCmd(), newRestoreCmd(),
		newPolicyCmd(), newEvaluateCmd(), newApprovalsCmd(), newScanCmd(), newKeysCmd(), newTenantsCmd(), newAccessCmd(), newControlsCmd())
	root.AddCommand(newMonitorCmd(), newAlertsCmd(), newIncidentsCmd(), newEvidenceCmd())
	return root
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	root := newRoot()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(os.Stderr, "warden:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitUsage
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print Warden's version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "warden", buildVersion())
		},
	}
}
