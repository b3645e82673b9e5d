// Package digitize turns images of tables and text into structured data.
//
// It owns:
//   - table structure recognition (ReadTable) in two modes. Lattice mode is
//     for ruled grids: binarize, find long thin horizontal and vertical runs,
//     cluster them into separators, build cells and merge cells across
//     missing separators into row and column spans. Stream mode is for
//     rules-only and borderless tables: OCR word boxes, rows by vertical
//     position, columns from whitespace gaps that persist across rows, with
//     right-aligned numbers kept apart by their right edges; horizontal rules
//     mark the end of the header;
//   - page clean-up before OCR: white-on-dark header bands are inverted,
//     light tints flattened, rulings erased, and small text upscaled so
//     glyphs are about 26 px tall. Tesseract runs once over the whole image;
//     ink it missed is re-read in one extra pass over a strip of crops;
//   - plain text reading (ReadText): lines with boxes and confidences;
//   - value parsing of financial cell text (ParseValue);
//   - stitching of consecutive table fragments (Stitch);
//   - the scoring used by cmd/eval-digitize (Compare, EvalDir).
//
// OCR goes through package imaging/ocr (the tesseract CLI). When tesseract is
// missing, ReadTable still returns the structure it finds from ink alone,
// with empty texts and the warning "ocr_unavailable"; ReadText then returns
// line boxes only, with the same warning. The package does no HTTP and
// touches no store. Charts live in imaging/chart, which reuses Table for its
// data table. The seeded test-image generator is the subpackage gen.
package digitize
