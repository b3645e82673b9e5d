// Package uncrop extends or crops an image on each side and fills the new
// area with classical image synthesis; there is no generative model.
//
// It owns the pixel work only: extent arithmetic (negative extents crop a
// side exactly), the choice between the two fill modes, and the fills
// themselves. It does not decode or encode files, speak HTTP, charge
// credits or rate-limit; the server package does that.
//
// The default fill (PatchMatch) runs a coarse-to-fine patch-based completion
// at a working resolution of at most Options.MaxWorkPixels: a
// nearest-neighbour field from every patch that touches the new area to a
// patch of the original is found by PatchMatch (random initialisation from
// the seed, propagation, random search) and the new pixels are set by
// weighted voting, over a few pyramid levels. Votes are weighted by match
// quality and by closeness to the original, so structure grows out of the
// edge. Distinct content (a blob whose colour stands out from its surround
// far more than the image's typical local contrast) is not copied into the
// new area: a source patch costs extra in proportion to its rarity, and the
// coarsest level starts from a reflection of the original with such
// objects painted out, so there are no "ghosts" (issue 17). Distinct
// regions that reach an edge being extended are structures crossing the
// seam (a road, a snowfield) and are exempt, so they carry on. The step
// between the original and the synthesis along each edge is measured,
// split into bands of spatial frequency and spread into the new area, each
// band fading over a distance matched to its wavelength (a cheap
// stand-in for Poisson blending). The result is upsampled to full size,
// high-frequency detail is copied from the matched places of the
// full-resolution original, and the first few generated pixels are feathered
// towards a reflection of the original edge, so the seam does not show. The
// feather lies wholly on the new side: every kept pixel is exact.
//
// The fast fill, used when the output is too large for the default's time
// budget, reflects the original across each edge, blurs it more the further
// a pixel is from the original, and adds grain drawn from the seed.
//
// Both fills are deterministic: the same input, extents and seed give
// byte-identical output on every run and for any GOMAXPROCS. Work is split
// into fixed tiles, random numbers are drawn from a hash of (seed, level,
// iteration, pixel) rather than a shared stream, and no result depends on
// scheduling or on the clock (Auto picks the mode from sizes only). The
// floating-point work is plain Go, so on one architecture the bytes are the
// same everywhere; Go may fuse multiply-adds on arm64, so the bytes there can
// differ from amd64's.
package uncrop
