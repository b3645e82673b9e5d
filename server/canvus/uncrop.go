package canvus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"net/http"
	"strings"

	"github.com/canvasd/canvasd/imaging"
	"github.com/canvasd/canvasd/imaging/uncrop"
	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

func (s *API) AdminOnly(c *gin.Context) { adminOnlyCanvus(c) }

// creditsJSON is what the credits routes answer for token tk: "credits" is
// what tk may still spend (null = unlimited), the smaller of its user's
// credits ("user_credits") and its own cap ("token_cap").
func creditsJSON(tx *store.Tx, tk *store.Token) gin.H {
	opt := func(n int64, ok bool) any {
		if ok {
			return n
		}
		return nil
	}
	n, ok := tx.Credits(tk)
	un, uok := tx.UserCredits(tk.UserID)
	cn, cok := tx.TokenCap(tk.ID)
	return gin.H{"token_id": tk.ID, "user_id": tk.UserID, "credits": opt(n, ok), "user_credits": opt(un, uok), "token_cap": opt(cn, cok)}
}

func (s *API) GetCredits(c *gin.Context) {
	s.answerCredits(c, s.St.View, nil)
}

// answerCredits runs change (nil: none) on the token of the path inside
// txn (s.st.View or s.st.Write) and answers the token's credits after it.
func (s *API) answerCredits(c *gin.Context, txn func(func(*store.Tx) error) error, change func(*store.Tx, *store.Token) error) {
	var out gin.H
	err := txn(func(tx *store.Tx) error {
		tk, err := tx.Token(c.Param("tid"))
		if err != nil {
			return err
		}
		if change != nil {
			if err := change(tx, tk); err != nil {
				return err
			}
		}
		out = creditsJSON(tx, tk)
		return nil
	})
	if err != nil {
		core.CanvusStoreError(c, err, "Access token")
		return
	}
	c.JSON(http.StatusOK, out)
}

// SetCredits sets uncrop credits. Credits belong to the account: the token in
// the path names its user, and {"credits": N} sets that user's credits, shared
// by all their tokens and logins ({"credits": null} is unlimited), and clears
// this token's own cap unless the body sets one. {"token_cap": N} caps this
// one token further ({"token_cap": null} removes the cap); a cap never raises
// what the user may spend.
func (s *API) SetCredits(c *gin.Context) {
	var req struct {
		Credits  *int64 `json:"credits"`
		TokenCap *int64 `json:"token_cap"`
	}
	raw := map[string]json.RawMessage{}
	if !core.CanvusJSON(c, &raw) {
		return
	}
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, &req); err != nil {
		core.CanvusError(c, http.StatusBadRequest, "credits and token_cap must be integers >= 0, or null")
		return
	}
	_, setUser := raw["credits"]
	_, setCap := raw["token_cap"]
	if !setUser && !setCap {
		setUser = true // {} was "unlimited" before token caps existed
	}
	if setUser && !setCap {
		setCap = true // "this key has N credits": no older cap of the key's may hide them
	}
	user, tcap := int64(-1), int64(-1)
	if req.Credits != nil {
		user = *req.Credits
	}
	if req.TokenCap != nil {
		tcap = *req.TokenCap
	}
	if (setUser && req.Credits != nil && user < 0) || (setCap && req.TokenCap != nil && tcap < 0) {
		core.CanvusError(c, http.StatusBadRequest, "credits must be >= 0, or null for unlimited")
		return
	}
	s.answerCredits(c, s.St.Write, func(tx *store.Tx, tk *store.Token) error {
		if setUser {
			if err := tx.SetUserCredits(tk.UserID, user); err != nil {
				return err
			}
		}
		if setCap {
			return tx.SetTokenCap(tk.ID, tcap)
		}
		return nil
	})
}

// CanvasUncrop extends an image widget in place: a new version on the same
// line as re-crop, the widget resized so the original part keeps its
// on-canvas scale and position, and IMAGE_UNCROPPED to every viewer.
func (s *API) CanvasUncrop(c *gin.Context) {
	p, ok := readUncropBody(c)
	if !ok {
		return
	}
	w, ok := s.loadWidget(c, "Image")
	if !ok {
		return
	}
	if w.Format == string(imaging.FormatSVG) {
		core.CanvusError(c, http.StatusBadRequest, "SVG images cannot be uncropped")
		return
	}
	data, err := s.St.ReadBlob(w.Blob)
	if err != nil {
		core.CanvusError(c, http.StatusInternalServerError, "Could not read the image")
		return
	}
	_, iw, ih, cost, _ := s.DecodeCost(data)
	s.WithDecodeSlot(c, core.CanvusError, s.Guard.Weigh(cost, s.UncropWeight(iw, ih, p)), func() {
		src, _, err := imaging.Decode(data, s.Limits())
		if err != nil {
			core.CanvusError(c, http.StatusBadRequest, "The image cannot be decoded: "+err.Error())
			return
		}
		out, code, msg := s.RunUncrop(src, p)
		if code != 0 {
			if code == http.StatusUnprocessableEntity {
				code = http.StatusBadRequest
			}
			core.CanvusError(c, code, strings.TrimPrefix(msg, "Input image is not acceptable: "))
			return
		}
		var buf bytes.Buffer
		if err := imaging.EncodePNG(&buf, out); err != nil {
			core.CanvusError(c, http.StatusInternalServerError, "Encoding the result failed")
			return
		}
		ob := out.Bounds()
		nw, err := s.NewVersionSized(c, w.CanvasID, w.ID, buf.Bytes(), ob.Dx(), ob.Dy(), nil, "uncrop", uncropResize(p.Ext, ob),
			func(nw *store.Widget, v int) (string, map[string]any) {
				return store.EvImageUncropped, map[string]any{"element_id": nw.ID, "version": v,
					"versioned_url": core.VersionedURL(nw.CanvasID, nw.ID, v),
					"extents":       map[string]int{"extend_left": p.Ext.Left, "extend_right": p.Ext.Right, "extend_up": p.Ext.Up, "extend_down": p.Ext.Down},
					"seed":          p.Seed}
			})
		if err != nil {
			core.CanvusStoreError(c, err, "Image")
			return
		}
		c.JSON(http.StatusOK, nw.Public())
	})
}

// readUncropBody reads the JSON body of the canvas uncrop route: the four
// extents (each -2000..2000, default 0) and seed (0..100000).
func readUncropBody(c *gin.Context) (core.UncropParams, bool) {
	var req struct {
		Left  *int   `json:"extend_left"`
		Right *int   `json:"extend_right"`
		Up    *int   `json:"extend_up"`
		Down  *int   `json:"extend_down"`
		Seed  *int64 `json:"seed"`
	}
	var p core.UncropParams
	if !core.CanvusJSON(c, &req) {
		return p, false
	}
	for _, f := range []struct {
		name string
		v    *int
		dst  *int
	}{{"extend_left", req.Left, &p.Ext.Left}, {"extend_right", req.Right, &p.Ext.Right}, {"extend_up", req.Up, &p.Ext.Up}, {"extend_down", req.Down, &p.Ext.Down}} {
		if f.v == nil {
			continue
		}
		if *f.v < -uncrop.MaxExtent || *f.v > uncrop.MaxExtent {
			core.CanvusError(c, http.StatusBadRequest, fmt.Sprintf("%s must be between -2000 and 2000, got %d", f.name, *f.v))
			return p, false
		}
		*f.dst = *f.v
	}
	if req.Seed != nil {
		if *req.Seed < 0 || *req.Seed > 100000 {
			core.CanvusError(c, http.StatusBadRequest, fmt.Sprintf("seed must be between 0 and 100000, got %d", *req.Seed))
			return p, false
		}
		p.Seed = *req.Seed
	}
	return p, true
}

// uncropResize resizes the widget of an uncropped image (ob: the result's
// bounds) so the original part keeps its on-canvas scale and position.
func uncropResize(ext uncrop.Extents, ob image.Rectangle) func(nw *store.Widget, oldW, oldH int) {
	return func(nw *store.Widget, oldW, oldH int) {
		size, _ := nw.Props["size"].(map[string]any)
		width, _ := size["width"].(float64)
		k := 1.0
		if oldW > 0 && width > 0 {
			k = width / float64(oldW) // canvas units per pixel of the original
		}
		nw.Props["size"] = map[string]any{"width": core.Round6(float64(ob.Dx()) * k), "height": core.Round6(float64(ob.Dy()) * k)}
		if loc, ok := nw.Props["location"].(map[string]any); ok {
			x, _ := loc["x"].(float64)
			y, _ := loc["y"].(float64)
			nw.Props["location"] = map[string]any{"x": core.Round6(x - float64(ext.Left)*k), "y": core.Round6(y - float64(ext.Up)*k)}
		}
	}
}
