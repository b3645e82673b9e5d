package canvus

// Canvas backgrounds and colour presets (more/CanvasBackgrounds_API.md,
// more/ColorPresets_API.md): settings of the canvas record, changed with a
// CANVAS_UPDATED event like any canvas change, so live viewers and
// ?subscribe streams see them.

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"

	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

// backgroundTypes are the background types; fits how an image background
// fills the canvas.
var (
	backgroundTypes = map[string]bool{"solid_color": true, "haze": true, "image": true}
	backgroundFits  = map[string]bool{"fill": true, "fit": true, "stretch": true, "center": true, "tile": true}
)

// presetKeys are the colour preset keys; maxPresetColors bounds each list.
var presetKeys = []string{"annotation", "connector", "note_background", "note_text"}

const maxPresetColors = 64

func defaultBackground() map[string]any {
	return map[string]any{
		"type":             "haze",
		"background_color": "#ffffff",
		"haze":             map[string]any{"color1": "#e0e0e0", "color2": "#f0f0f0", "speed": 0.5, "scale": 1.0},
		"grid":             map[string]any{"visible": true, "color": "#cccccc"},
		"image":            map[string]any{"hash": "", "fit": "fill"},
	}
}

func defaultPresets() map[string][]string {
	kpmg := []string{"#00338dff", "#005eb8ff", "#0091daff", "#470a68ff", "#6d2077ff", "#00a3a1ff"}
	return map[string][]string{"annotation": kpmg, "connector": kpmg, "note_background": kpmg, "note_text": {}}
}

// backgroundOf is the canvas's background with every part present.
func backgroundOf(cv *store.Canvas) map[string]any {
	bg := defaultBackground()
	for k, v := range cv.Background {
		bg[k] = v
	}
	return bg
}

func presetsOf(cv *store.Canvas) map[string][]string {
	p := defaultPresets()
	for k, v := range cv.ColorPresets {
		p[k] = v
	}
	return p
}

// settingJSON is what GET …/background or GET …/color-presets answers.
func settingJSON(cv *store.Canvas, kind string) any {
	if kind == "background" {
		return backgroundOf(cv)
	}
	return presetsOf(cv)
}

func (s *API) canvasSetting(canvasID, kind string) (any, error) {
	var cv *store.Canvas
	if err := s.St.View(func(tx *store.Tx) (err error) { cv, err = tx.Canvas(canvasID); return }); err != nil {
		return nil, err
	}
	return settingJSON(cv, kind), nil
}

// GetBackground is GET /canvases/:id/background.
func (s *API) GetBackground(c *gin.Context) {
	s.getSetting(c, "background")
}

// GetColorPresets is GET /canvases/:id/color-presets.
func (s *API) GetColorPresets(c *gin.Context) {
	s.getSetting(c, "color-presets")
}

func (s *API) getSetting(c *gin.Context, kind string) {
	id := core.CanvasOf(c).ID
	v, err := s.canvasSetting(id, kind)
	if err != nil {
		core.CanvusStoreError(c, err, "Canvas")
		return
	}
	s.respond(c, v, &streamSpec{topic: id, kind: kind})
}

// bgPatch is a background change as read from a body.
type bgPatch struct {
	Type            *string                    `json:"type"`
	BackgroundColor *string                    `json:"background_color"`
	Haze            map[string]json.RawMessage `json:"haze"`
	Grid            map[string]json.RawMessage `json:"grid"`
	Fit             *string                    `json:"fit"`
}

func colorField(raw json.RawMessage, name string) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || len(s) > 16 || !ValidColor(s) {
		return "", store.Invalidf(fmt.Sprintf("Field '%s' must be a hex colour: #RRGGBB or #RRGGBBAA", name))
	}
	return s, nil
}

func subObject(bg map[string]any, k string) map[string]any {
	out := map[string]any{}
	if m, ok := bg[k].(map[string]any); ok {
		for kk, v := range m {
			out[kk] = v
		}
	}
	return out
}

// applyBackground validates p and applies it to bg (a copy of the current
// background). image is true for the multipart POST, which sets the image.
func applyBackground(bg map[string]any, p *bgPatch, image bool) error {
	if p.Type == nil && !image {
		return store.Invalidf("Field 'type' is required: solid_color, haze or image")
	}
	typ := "image"
	if p.Type != nil {
		typ = *p.Type
	}
	if !backgroundTypes[typ] {
		return store.Invalidf(fmt.Sprintf("Unknown background type '%s': solid_color, haze or image", typ))
	}
	if image && typ != "image" {
		return store.Invalidf("A background upload has type 'image'")
	}
	if !image && typ == "image" {
		if h, _ := subObject(bg, "image")["hash"].(string); h == "" {
			return store.Invalidf("No background image yet: upload one with a multipart POST /canvases/:id/background")
		}
	}
	if typ == "haze" && p.Haze == nil {
		return store.Invalidf("Field 'haze' is required for type haze")
	}
	if p.BackgroundColor != nil {
		if !ValidColor(*p.BackgroundColor) || len(*p.BackgroundColor) > 16 {
			return store.Invalidf("Field 'background_color' must be a hex colour: #RRGGBB or #RRGGBBAA")
		}
		bg["background_color"] = *p.BackgroundColor
	}
	if p.Haze != nil {
		haze := subObject(bg, "haze")
		for _, k := range sortedKeys(p.Haze) {
			raw := p.Haze[k]
			switch k {
			case "color1", "color2":
				col, err := colorField(raw, "haze."+k)
				if err != nil {
					return err
				}
				haze[k] = col
			case "speed", "scale":
				f, ok := asNum(raw)
				if !ok || f < 0 || (k == "scale" && f == 0) || f > 1e6 || math.IsInf(f, 0) {
					return store.Invalidf(fmt.Sprintf("Field 'haze.%s' must be a number above 0", k))
				}
				haze[k] = f
			}
		}
		bg["haze"] = haze
	}
	if p.Grid != nil {
		grid := subObject(bg, "grid")
		for _, k := range sortedKeys(p.Grid) {
			raw := p.Grid[k]
			switch k {
			case "visible":
				var b bool
				if err := json.Unmarshal(raw, &b); err != nil {
					return store.Invalidf("Field 'grid.visible' must be a boolean")
				}
				grid[k] = b
			case "color":
				col, err := colorField(raw, "grid.color")
				if err != nil {
					return err
				}
				grid[k] = col
			}
		}
		bg["grid"] = grid
	}
	if p.Fit != nil {
		if !backgroundFits[*p.Fit] {
			return store.Invalidf(fmt.Sprintf("Unknown fit '%s': fill, fit, stretch, center or tile", *p.Fit))
		}
		img := subObject(bg, "image")
		img["fit"] = *p.Fit
		bg["image"] = img
	}
	bg["type"] = typ
	return nil
}

func sortedKeys(m map[string]json.RawMessage) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// patchedBackground loads the request's canvas as stored now and applies p
// to its background (backgroundOf; image as applyBackground has it).
func patchedBackground(tx *store.Tx, c *gin.Context, p *bgPatch, image bool) (*store.Canvas, map[string]any, error) {
	cv, err := tx.Canvas(core.CanvasOf(c).ID)
	if err != nil {
		return nil, nil, err
	}
	bg := backgroundOf(cv)
	if err := applyBackground(bg, p, image); err != nil {
		return nil, nil, err
	}
	return cv, bg, nil
}

// PatchBackground is PATCH /canvases/:id/background: solid colour or haze
// (or back to the image already uploaded), and the grid.
func (s *API) PatchBackground(c *gin.Context) {
	var p bgPatch
	if !core.CanvusJSON(c, &p) {
		return
	}
	var out map[string]any
	if !s.write(c, "Canvas", func(tx *store.Tx) error {
		cv, bg, err := patchedBackground(tx, c, &p, false)
		if err != nil {
			return err
		}
		cv.Background, out = bg, bg
		return tx.PutCanvas(cv)
	}) {
		return
	}
	c.JSON(http.StatusOK, out)
}

// PostBackground is POST /canvases/:id/background: a multipart upload of
// the background image (a "data" part) with an optional "json" part (type
// image, fit, grid).
func (s *API) PostBackground(c *gin.Context) {
	parts, ok := s.uploadParts(c)
	if !ok {
		return
	}
	if parts["data"] == nil {
		core.CanvusError(c, http.StatusBadRequest, "Missing 'data' part: the background image is required")
		return
	}
	var p bgPatch
	if !decodeJSONPart(c, parts, &p) {
		return
	}
	up := &imageUpload{data: parts["data"], dataGiven: true}
	if !s.checkData(c, up) {
		return
	}
	// Check the json part before the file is written.
	if err := applyBackground(defaultBackground(), &p, true); err != nil {
		core.CanvusStoreError(c, err, "Canvas")
		return
	}
	var out map[string]any
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var hash string
		if hash, err = s.St.PutBlobFile(up.data.Data); err != nil {
			break
		}
		err = s.St.WriteAs(canvasAuthor(c), func(tx *store.Tx) error {
			cv, bg, err := patchedBackground(tx, c, &p, true)
			if err != nil {
				return err
			}
			img := subObject(bg, "image")
			img["hash"] = core.PublicHash(hash)
			bg["image"] = img
			if err := tx.AddBlobRef(hash); err != nil {
				return err
			}
			if cv.BackgroundBlob != "" {
				if err := tx.ReleaseBlob(cv.BackgroundBlob); err != nil {
					return err
				}
			}
			cv.Background, cv.BackgroundBlob, cv.BackgroundFormat, out = bg, hash, string(up.format), bg
			return tx.PutCanvas(cv)
		})
		if !errors.Is(err, store.ErrBlobGone) {
			break
		}
	}
	if err != nil {
		core.CanvusStoreError(c, err, "Canvas")
		return
	}
	c.JSON(http.StatusOK, out)
}

// PatchColorPresets is PATCH /canvases/:id/color-presets: each key given
// replaces that list of colours.
func (s *API) PatchColorPresets(c *gin.Context) {
	var body map[string]json.RawMessage
	if !core.CanvusJSON(c, &body) {
		return
	}
	set := map[string][]string{}
	for _, k := range presetKeys {
		raw, ok := body[k]
		if !ok {
			continue
		}
		var l []string
		if err := json.Unmarshal(raw, &l); err != nil || l == nil {
			core.CanvusError(c, http.StatusBadRequest, fmt.Sprintf("Field '%s' must be an array of hex colours", k))
			return
		}
		if len(l) > maxPresetColors {
			core.CanvusError(c, http.StatusBadRequest, fmt.Sprintf("Field '%s' holds at most %d colours, got %d", k, maxPresetColors, len(l)))
			return
		}
		for i, col := range l {
			if len(col) > 16 || !ValidColor(col) {
				core.CanvusError(c, http.StatusBadRequest, fmt.Sprintf("%s[%d] must be a hex colour: #RRGGBB or #RRGGBBAA", k, i))
				return
			}
		}
		set[k] = l
	}
	var out map[string][]string
	if !s.write(c, "Canvas", func(tx *store.Tx) error {
		cv, err := tx.Canvas(core.CanvasOf(c).ID)
		if err != nil {
			return err
		}
		if cv.ColorPresets == nil {
			cv.ColorPresets = map[string][]string{}
		}
		for k, v := range set {
			cv.ColorPresets[k] = v
		}
		out = presetsOf(cv)
		return tx.PutCanvas(cv)
	}) {
		return
	}
	c.JSON(http.StatusOK, out)
}
