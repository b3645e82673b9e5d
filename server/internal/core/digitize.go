package core

import "time"

const (
	// batchReplayTTL is how long a finished batch-digitize batch's events
	// stay replayable (Server.Batches).
	batchReplayTTL = time.Hour
	// batchReplayBytes bounds the memory of finished batches kept for replay.
	batchReplayBytes = 64 << 20
)

// digitizeElementTimeout bounds the decode and analysis of one
// batch-digitize element (the fetch has its own limits, and waiting for an
// operation slot is not counted); Server.DigitizeTimeout, which tests shorten.
const digitizeElementTimeout = 60 * time.Second
