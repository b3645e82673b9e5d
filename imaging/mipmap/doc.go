// Package mipmap computes the image pyramid of the Canvus mipmaps API: level
// 0 is the original size and each level above halves both sides (rounding
// up), down to the maximum level, the first whose long side is under
// MaxLevelSide pixels, and never so far that the short side drops below
// MinSide (the Canvus reference: "the maximum level is where both width and
// height are ≤128 pixels and ≥2 pixels"; its 1024x768 example has
// max_level 4).
//
// Each level is the 2x2 box average of the level below, in premultiplied
// alpha so transparent pixels do not bleed their colour, which is what a
// GPU's mipmap generation does. EncodeWebP writes a level as the API
// serves it. It owns no storage and no HTTP: callers cache the levels.
package mipmap
