// Package gen renders seeded synthetic financial tables with known content,
// for tests and for cmd/eval-digitize.
//
// It owns table content generation (labels, years, spanning group headers,
// accounting negatives, percentages, dashes, currency), rendering in three
// styles (full grid, rules only, borderless) with the embedded Go fonts, and
// degradations (scale, blur, JPEG). Each sample carries its ground truth as a
// digitize.Table. It does not recognise anything; see package digitize.
package gen
