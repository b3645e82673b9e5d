package canvus

import (
	"errors"
	"math"
)

// presenceViewport is the part of the canvas a viewer sees, in canvas
// coordinates: its top-left corner and its size. A PRESENCE may carry it so
// that another viewer can follow this one's view (not just the cursor);
// relayed, never stored.
type presenceViewport struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	W float64 `json:"w"`
	H float64 `json:"h"`
}

// maxViewportCoord bounds each number of a viewport: far beyond any canvas
// (the root is 10000 wide), small enough that clients never overflow.
const maxViewportCoord = 1e9

// check says what is wrong with v, or nil.
func (v *presenceViewport) check() error {
	for _, n := range []float64{v.X, v.Y, v.W, v.H} {
		if math.IsNaN(n) || math.IsInf(n, 0) || math.Abs(n) > maxViewportCoord {
			return errors.New("viewport must be finite numbers (|n| <= 1e9)")
		}
	}
	if v.W <= 0 || v.H <= 0 {
		return errors.New("viewport w and h must be > 0")
	}
	return nil
}
