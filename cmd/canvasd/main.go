// Command canvasd is the real-time collaborative canvas server.
//
//	canvasd serve [flags]        serve the API, the live transports and the web client
//	canvasd user add [flags]     create a user (server stopped, same --data)
//	canvasd token create [flags] print a new access token for a user
//	canvasd backup --out FILE    online, consistent backup of a running server's data
//	canvasd restore --from FILE --data DIR
//
// Every flag has a CANVASD_* environment variable (flag name upper-cased,
// dashes as underscores); a flag given on the command line wins.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/gin-gonic/gin"
)

func main() {
	// bild's parallel package sets GOMAXPROCS to the host's CPU count in init;
	// go back to the container-aware default.
	runtime.SetDefaultGOMAXPROCS()
	// The API path allocates many short-lived objects (requests, JSON) over a
	// small live heap, so the default GOGC=100 collects very often: a fifth
	// of the CPU of a durable image PATCH went to GC. 300 lets the heap grow
	// to 4x the live data between collections, cutting the CPU per PATCH by
	// about 20% (BENCHMARKS.md). An explicit GOGC wins; GOMEMLIMIT (or
	// --memory-limit, see serve) still caps the heap.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(300)
	}
	// gin's mode is process-wide: main owns it (server tests set it in TestMain).
	gin.SetMode(gin.ReleaseMode)
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "canvasd:", err)
		os.Exit(1)
	}
}
