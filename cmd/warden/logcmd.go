package main

import (
	"github.com/spf13/cobra"
)

func newLogCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "log",
		Short: "Inspect and verify the tamper-evident log",
	}
	cmd.AddCommand(newLogVerifyCmd(), newLogCheckpointCmd(), newLogProofCmd(), newLogRotateKeyCmd())
	return cmd
}
