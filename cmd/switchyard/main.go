// Command switchyard is the Switchyard control plane and gateway for LLM
// providers. main only calls run, the one place where things are wired
// together, so that tests drive the real program.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "switchyard:", err)
		os.Exit(exitCode(err))
	}
}
