// Command eval-digitize scores the table and chart digitizers against the
// generated ground truth under testdata/digitize. Per table style it prints
// shape exact-match rate, cell adjacency F1, numeric-cell exact-value
// accuracy and timings; the chart lines come from chart.Eval.
//
//	eval-digitize [-tables testdata/digitize/tables] [-charts testdata/digitize/charts] [-v]
//	eval-digitize -generate -n 24 -seed 1000 -tables testdata/digitize/tables
package main
