package chart

// stacked reports whether the bars read include stacked segments: a
// segment of the chosen orientation sitting on another bar (stackSegments).
// Their values are already each segment's own extent (bars, series.go), so
// a stacked result differs from a grouped one only by this flag.
func (d *digitizer) stacked(kinds []compKind) bool {
	for i := range d.stackBelow {
		if i < len(kinds) && kinds[i] != kOther {
			return true
		}
	}
	return false
}
