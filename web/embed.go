// Package web is the dashboard: a React single-page app built by Vite from
// this directory (npm ci && npm run build, run by make build) into dist/,
// embedded in the binary and served at / by Handler.
//
// Without a build, dist holds only a placeholder, the binary still compiles,
// and / explains how to build the dashboard.
package web

import "embed"

// dist is the Vite build output.
//
//go:embed all:dist
var dist embed.FS
