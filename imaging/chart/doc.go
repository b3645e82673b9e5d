// Package chart digitizes images of bar, line and pie charts into data series.
//
// It owns the chart pipeline:
//   - the plot frame from the axis lines (or, in spreadsheet-style charts
//     without a value-axis line, from where the gridlines start), and a zero
//     line inside the plot when the axis includes negative values;
//   - series colours by clustering saturated pixels; near-white, grey and
//     black pixels (text, gridlines, axes) are never series, and the lighter
//     or darker rims that anti-aliasing and JPEG leave around a colour are
//     folded into it;
//   - bars measured from their edges with sub-pixel colour coverage, grouped
//     into categories, stacked segments measured from the segment below;
//   - lines traced column by column and sampled at the category ticks;
//   - legend swatches matched to the series colours, with the legend text
//     read by OCR as the series names;
//   - a robust pixel→value fit from the tick labels (RANSAC over label pairs,
//     linear or log, tolerant of typical misreadings such as a dotted 0 read
//     as 8, a lost minus sign or "1,000" read as "1.000");
//   - printed data labels, which replace measured values when they agree;
//   - pie and donut charts (pie.go), tried when no chart with axes was
//     found: the largest disc of colour, its hole, and each colour's share
//     of rays cast a quarter degree apart; slice labels from the legend or
//     the word outside each slice. Stacked bars are flagged Stacked.
//
// Supported types are bar_vertical, bar_horizontal, line, pie and donut;
// anything else (scatter, no axes) fails with ErrUnsupported. Without Tesseract the
// result is pixel-only: type and series are found, values are pixels from
// the baseline, and the warnings ocr_unavailable and values_in_pixels say so.
//
// It does not read tables or free text (package digitize) and does not run
// Tesseract itself (package ocr). Eval scores the pipeline on the corpus in
// testdata/digitize/charts, which package chartgen renders.
package chart
