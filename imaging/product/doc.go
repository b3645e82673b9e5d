// Package product holds the pure image operations behind the crop-job API
// (issue 7): mask-aware banner crops, trim-and-align of a subject on a plain
// background, and flood-fill background removal, plus the resampler they
// share.
//
// It owns pixels only. Decoding, pixel limits, HTTP, the job queue, the store
// and output encoding belong to the callers (imaging's guarded decode, the
// server and store packages). The operations take and return *image.NRGBA
// (non-premultiplied, 8 bits per channel) and report crop coordinates as a
// Rect of fractions of the input image. They are safe for concurrent use and
// spread their work over GOMAXPROCS goroutines.
//
// # Operations
//
// MaskCrop finds the mask's bounding box (white = keep, luma > 127) and
// centroid, converts the minimum margins (output pixels, or percent of the
// output side) into a scale, and picks the tightest window of the output's
// aspect ratio that is centred on the centroid and holds the bounding box
// plus margins, shifted to lie inside the image. If that window is larger
// than the image, a smaller one that still holds the box and margins (and is
// as close to centred as the image allows) is used. Only when no window
// inside the image can hold them (the output's aspect ratio is too extreme
// for the mask, or the mask touches the image edge where a margin is
// required) is the mask scaled to fit the output and the rest padded with
// the background.
//
// TrimAlign estimates the background as the per-channel median of the
// border pixels, marks as subject every pixel whose CIE76 ΔE (Lab) from it
// exceeds a threshold (DefaultDeltaE), drops specks smaller than a size
// floor, trims to the subject's bounding box, and centres the subject in the
// output inside the minimum margins.
//
// RemoveBackground uses the same background model, flood-fills the
// background from the border with a scanline fill over a byte-per-pixel
// bitmap, keeps the largest 8-connected foreground component, estimates the
// coverage of the pixels on its boundary from their colour (so anti-aliased
// edges keep their sub-pixel position), and feathers the alpha with a 3x3
// binomial blur. Background-coloured regions enclosed by the subject (the
// hole of a mug handle) are kept: the fill only removes what is connected to
// the border. The threshold is global (ΔE from the border median); there is
// no local tolerance, so soft shadows and strong vignetting that differ from
// the border colour by more than the threshold stay with the subject.
//
// Resize resamples with an area average when shrinking and Catmull-Rom when
// enlarging, in premultiplied alpha, over fractional source rectangles so that
// the reported crop coordinates are exact.
//
// The sRGB to Lab conversion uses a 256-entry linearisation table and an
// interpolated table for the Lab cube root, so no math.Pow runs per pixel;
// the ΔE decision for colours within ±15 levels of the background colour is
// precomputed per image, which covers most pixels of a noisy background.
package product
