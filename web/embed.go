// Package web is the operator dashboard: a SvelteKit single-page app whose
// build (web/build/app, made by `make web`) is embedded in the binary and
// served by `synapse api`.
package web

import (
	"embed"
	"io/fs"
)

// build holds web/build: the README committed for clean checkouts and, after
// `make web`, the dashboard under app/.
//
//go:embed all:build
var build embed.FS

// Dist is the built dashboard, index.html at its root. In a checkout where
// `make web` has not run it holds no index.html.
func Dist() fs.FS {
	sub, err := fs.Sub(build, "build/app")
	if err != nil {
		panic(err) // "build/app" is a valid path
	}
	return sub
}
