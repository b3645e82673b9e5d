// Package imaging holds the pure image functions canvasd's handlers build on:
// bytes and image.Image in, bytes, images and numbers out. It has no HTTP,
// no store and no logging; it returns errors.
//
// It owns:
//   - format sniffing by magic bytes (PNG, JPEG, GIF, WebP, and SVG by its
//     <svg root), never by file name or declared content type: Sniff;
//   - the pixel guard: Inspect reads only the header (image.DecodeConfig of
//     the sniffed decoder) and refuses more than Limits.MaxPixels before any
//     pixel memory is allocated; Decode inspects first, then decodes to
//     *image.NRGBA whatever the source's colour model; DecodeCost bounds,
//     from the header, the bytes Decode will allocate (16-bit channels,
//     alpha and intermediate copies included), the weight of the server's
//     decode guard;
//   - encoding: EncodePNG at zlib BestSpeed (large NRGBA images through a
//     deterministic strip-parallel encoder, the rest through image/png with
//     pooled buffers) and EncodeJPEG;
//   - fractional boxes on a page: Box, PixelRect (floor the start, ceil the
//     end, clamp), CropFrac (a SubImage, no copy), AspectLock;
//   - the user_bbox parser with FastAPI/pydantic-v2-shaped errors: ParseBBox,
//     FieldError;
//   - comparison of a corrected crop with the original: IoU and Diff. A
//     correction is significant when IoU < 0.9 (SignificantIoU) or the area
//     changes by more than 10% (SignificantAreaDeltaPct), either way;
//   - SourceCache, a byte-bounded LRU of decoded sources with one load per
//     key however many callers miss at once.
//
// It does not own where bytes come from or go to (server and store do),
// versioning, or events. Heavier operations (uncrop fill, trim and align,
// background removal, digitize) live in subpackages of imaging, one job each.
package imaging
