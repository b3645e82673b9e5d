// Package cropjobs serves Crop.photo's API (/v1): banner jobs with their
// queue and workers, auto-resize-align, remove-background and the outputs.
// Errors are {"status":"error", ...} (core.JobError). It imports
// server/internal/core and no other dialect.
package cropjobs

import "github.com/canvasd/canvasd/server/internal/core"

// API is the receiver of this dialect's handlers: the shared server state
// reached through the embedded core.Server, plus the job queue.
type API struct {
	*core.Server
	jobs *jobRunner // crop-job queue and workers (jobs.go)
}

// New returns the handlers of this dialect over s, with an idle job queue.
func New(s *core.Server) *API {
	a := &API{Server: s}
	a.jobs = newJobRunner(a)
	return a
}

// Start launches the job workers, which first queue the jobs a previous run
// left unfinished. Call once, before serving.
func (a *API) Start() { a.jobs.start() }
