// Command eval-digitize scores the table and chart digitizers against the
// generated ground truth under testdata/digitize. Per table style it prints
// shape exact-match rate, cell adjacency F1, numeric-cell exact-value
// accuracy and timings; the chart lines come from chart.Eval.
//
//	eval-digitize [-tables testdata/digitize/tables] [-charts testdata/digitize/charts] [-v]
//	eval-digitize -seed 99 [-n 24] [-chart-n 40]       # a held-out corpus generated from seed 99
//	eval-digitize -tables testdata/digitize/independent/frozen/tables -charts testdata/digitize/independent/frozen/charts
//	eval-digitize -generate-independent testdata/digitize/independent/frozen -seed 18 -n 6 -chart-n 16
//	eval-digitize -generate -n 24 -seed 1000 -tables testdata/digitize/tables
//
// With -seed and without -generate, the corpus is generated into a temporary
// directory by the same generators as the committed one (tables: gen.WriteSet
// from seed, -n per style; charts: chartgen.Corpus(seed, -chart-n)) and
// evaluated there, so every figure of BENCHMARKS.md has a command.
// -generate-independent writes one slice of the independent corpus (HTML
// tables rendered by headless Chromium, gnuplot charts); it needs
// /usr/bin/chromium, gnuplot, fonts-dejavu and fonts-liberation (make
// independent-corpus writes both committed slices).
package main
