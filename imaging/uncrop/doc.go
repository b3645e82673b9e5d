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
// weighted voting, over a few pyramid levels. The result is upsampled to full
// size, high-frequency detail is copied from the matched places of the
// full-resolution original, and the first few generated pixels are feathered
// towards a reflection of the original edge so that the seam does not show.
//
// The fast fill, used when the output is too large for the default's time
// budget, reflects the original across each edge, blurs it more the further
// a pixel is from the original, and adds grain drawn from the seed.
//
// Both fills are deterministic: the same input, extents and seed give
// byte-identical output on every run and for any GOMAXPROCS. Work is split
// into fixed tiles, random numbers are drawn from a hash of (seed, level,
// iteration, pixel) rather than a shared stream, and no result depends on
// scheduling or on the clock. The pixels of the original that are kept
// always appear unchanged in the output.
package uncrop
