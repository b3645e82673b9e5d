// Package web is the browser canvas client: plain ES modules and CSS under
// static/, embedded in the binary, needing no build step. The server mounts
// it at /. Its end-to-end tests drive real Chromium against a real server.
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// FS returns the client's files, rooted at static/.
func FS() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // static/ is embedded at build time
	}
	return sub
}
