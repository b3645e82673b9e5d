// Package render draws a canvas preview: a canvas's widgets, as the Canvus
// API describes them, painted into one bounded RGBA image.
//
// It owns the preview's layout and painting:
//   - geometry as the browser client computes it: a widget's location is
//     relative to its parent (the canvas root, type SharedCanvas, is the
//     world), scales multiply down the parent chain, and siblings are painted
//     in depth order, parents before children, connectors last;
//   - notes (background colour, title, wrapped and clipped text, text colour
//     picked by contrast when none is set), images (pixels from the caller's
//     loader, scaled into their box), tables (grid, header rows, spans, cell
//     text), connectors (straight or curved line between the rel_location
//     points of their src and dst widgets, arrow tips), anchors (dashed
//     frame and name, when Options.Anchors is set), Pdf widgets (the
//     loader's page image), Video widgets (a play mark and the title, with
//     the length when Props["duration"], in seconds, is given) and a
//     labelled box for every other widget type;
//   - the output bound: the union of the widgets' boxes, plus a margin, is
//     scaled to fit Options.MaxSide pixels on its long side (never enlarged).
//
// It does not own where widgets or pixels come from: the caller passes the
// widgets' public JSON fields and a loader that decodes an image widget's
// pixels under its own memory guard. It has no HTTP, no store and no cache.
// Text uses the Go fonts (golang.org/x/image/font/gofont), compiled in, so
// output is the same on every machine.
package render
