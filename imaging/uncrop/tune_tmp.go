package uncrop

import (
	"os"
	"strconv"
)

func init() {
	if v, err := strconv.ParseFloat(os.Getenv("UNCROP_PRIOR"), 32); err == nil {
		alignPrior = float32(v)
	}
}

var detailGain float32 = 1

func init() {
	if v, err := strconv.ParseFloat(os.Getenv("UNCROP_DG"), 32); err == nil {
		detailGain = float32(v)
	}
}
