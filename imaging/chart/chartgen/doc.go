// Package chartgen renders synthetic bar, line, pie and scatter charts with
// known content, for testing and evaluating the chart digitizer.
//
// It owns the seeded corpus: chart specs (categories, series, axis range,
// legend and label placement), rendering with the Go fonts (no system fonts
// needed), the degradations (scale, blur, JPEG) and the ground-truth JSON
// written beside each image. It does not analyse images; package chart does.
package chartgen
