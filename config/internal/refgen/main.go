// Command refgen writes docs/configuration.md from the settings table in
// package config, so that the reference cannot drift from the code. Run by
// go generate (make generate); make test fails when the file is stale.
package main

import (
	"fmt"
	"os"

	"github.com/switchyard/switchyard/config"
)

const header = `# Configuration reference

<!-- Generated from config/settings.go by make generate; do not edit. -->

Every setting of ` + "`switchyard`" + `, as an environment variable and (except secrets) a flag.
Every command takes them (` + "`switchyard serve -h`" + ` prints the same list). A bad setting stops
start-up with a message naming the setting, the bad value (never a secret) and what is
accepted; all bad settings are reported at once.

`

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: refgen OUTPUT.md")
		os.Exit(2)
	}
	if err := os.WriteFile(os.Args[1], []byte(header+config.Reference()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
