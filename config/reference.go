package config

import (
	"fmt"
	"strings"
)

// Reference renders every setting as a Markdown table: environment variable,
// flag, default and meaning. The output depends only on the settings table,
// so it can be checked in as documentation and compared in a test.
func Reference() string {
	var b strings.Builder
	b.WriteString("| Environment variable | Flag | Default | Meaning |\n")
	b.WriteString("|---|---|---|---|\n")
	for _, s := range settings() {
		flag := "none (secret)"
		if s.Flag != "" {
			flag = "`-" + s.Flag + "`"
		}
		def := "none"
		if s.Default != "" {
			def = "`" + s.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", s.Env, flag, mdCell(def), mdCell(s.Help))
	}
	b.WriteString("\nFlags override environment variables, which override the defaults. " +
		"An empty environment variable counts as unset. Secrets have no flag, because the command line is visible to other users.\n")
	return b.String()
}

func mdCell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}

// Usage renders the flags and environment variables for -h, as plain text.
func Usage() string {
	var b strings.Builder
	b.WriteString("Settings (flags override environment variables, which override defaults):\n")
	for _, s := range settings() {
		b.WriteString("\n  ")
		if s.Flag != "" {
			b.WriteString("-" + s.Flag + ", ")
		}
		b.WriteString(s.Env)
		if s.Default != "" {
			b.WriteString(" (default " + s.Default + ")")
		}
		if s.Flag == "" {
			b.WriteString(" (environment only)")
		}
		b.WriteString("\n      " + s.Help + "\n")
	}
	return b.String()
}
