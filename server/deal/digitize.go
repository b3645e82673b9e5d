package deal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/canvasd/canvasd/imaging"
	"github.com/canvasd/canvasd/imaging/chart"
	"github.com/canvasd/canvasd/imaging/digitize"
	"github.com/canvasd/canvasd/imaging/ocr"
	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

// Batch digitize (deal dialect): POST /api/canvas/{deal_id}/images/batch-digitize
// answers text/event-stream while it reads up to ten image elements one after
// the other as tables, charts or text; GET …/batch-digitize/{batch_id}/events
// replays a batch's events after Last-Event-ID for an hour.

const (
	// maxBatchElements is the most elements one batch may name.
	maxBatchElements = 10
	// Table widgets are laid out this far right of their image, with cells
	// of this size.
	tableGap, tableCellW, tableCellH = 40.0, 120.0, 32.0
)

// batchElement is one element of a request, validated.
type batchElement struct {
	ID, Type, URL string
}

type batchRequest struct {
	Elements []batchElement
	Stitch   bool
}

const elementTypes = "'table', 'chart' or 'text'"

// parseBatchDigitize validates the body the way FastAPI/pydantic v2 would for
//
//	class BatchDigitizeElement(BaseModel):
//	    element_id: str; element_type: Literal['table','chart','text']; image_url: str
//	class BatchDigitizeRequest(BaseModel):
//	    elements: conlist(BatchDigitizeElement, min_length=1, max_length=10); stitch: bool = False
func parseBatchDigitize(body []byte) (*batchRequest, []imaging.FieldError) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, []imaging.FieldError{fieldErr([]any{"body"}, "Field required", "missing", nil)}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &obj); err != nil {
		var v any
		if json.Unmarshal(trimmed, &v) == nil {
			return nil, []imaging.FieldError{fieldErr([]any{"body"}, "Input should be a valid dictionary or object to extract fields from", "model_attributes_type", json.RawMessage(trimmed))}
		}
		return nil, []imaging.FieldError{{Loc: []any{"body", 0}, Msg: "JSON decode error", Type: "json_invalid",
			Input: map[string]any{}, Ctx: map[string]any{"error": err.Error()}}}
	}
	if obj == nil { // the body was JSON null
		return nil, []imaging.FieldError{fieldErr([]any{"body"}, "Input should be a valid dictionary or object to extract fields from", "model_attributes_type", nil)}
	}
	req := &batchRequest{}
	var errs []imaging.FieldError
	raw, ok := obj["elements"]
	var items []json.RawMessage
	switch {
	case !ok:
		errs = append(errs, fieldErr([]any{"body", "elements"}, "Field required", "missing", json.RawMessage(trimmed)))
	case json.Unmarshal(raw, &items) != nil || items == nil:
		errs = append(errs, fieldErr([]any{"body", "elements"}, "Input should be a valid list", "list_type", raw))
	case len(items) > maxBatchElements:
		e := fieldErr([]any{"body", "elements"}, fmt.Sprintf("List should have at most %d items after validation, not %d", maxBatchElements, len(items)), "too_long", raw)
		e.Ctx = map[string]any{"field_type": "List", "max_length": maxBatchElements, "actual_length": len(items)}
		errs = append(errs, e)
	default:
		for i, it := range items {
			el, ierrs := parseBatchElement(it, i)
			errs = append(errs, ierrs...)
			req.Elements = append(req.Elements, el)
		}
		if len(items) == 0 {
			e := fieldErr([]any{"body", "elements"}, "List should have at least 1 item after validation, not 0", "too_short", raw)
			e.Ctx = map[string]any{"field_type": "List", "min_length": 1, "actual_length": 0}
			errs = append(errs, e)
		}
	}
	if raw, ok := obj["stitch"]; ok {
		b, ferr := laxBool(raw, []any{"body", "stitch"})
		if ferr != nil {
			errs = append(errs, *ferr)
		}
		req.Stitch = b
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return req, nil
}

func parseBatchElement(raw json.RawMessage, i int) (batchElement, []imaging.FieldError) {
	loc := func(f string) []any { return []any{"body", "elements", i, f} }
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || obj == nil {
		e := fieldErr([]any{"body", "elements", i}, "Input should be a valid dictionary or instance of BatchDigitizeElement", "model_type", raw)
		e.Ctx = map[string]any{"class_name": "BatchDigitizeElement"}
		return batchElement{}, []imaging.FieldError{e}
	}
	var el batchElement
	var errs []imaging.FieldError
	str := func(f string, dst *string) {
		v, ok := obj[f]
		if !ok {
			errs = append(errs, fieldErr(loc(f), "Field required", "missing", raw))
			return
		}
		if json.Unmarshal(v, dst) != nil || string(bytes.TrimSpace(v)) == "null" {
			errs = append(errs, fieldErr(loc(f), "Input should be a valid string", "string_type", v))
		}
	}
	str("element_id", &el.ID)
	if v, ok := obj["element_type"]; !ok {
		errs = append(errs, fieldErr(loc("element_type"), "Field required", "missing", raw))
	} else if json.Unmarshal(v, &el.Type) != nil || (el.Type != "table" && el.Type != "chart" && el.Type != "text") {
		e := fieldErr(loc("element_type"), "Input should be "+elementTypes, "literal_error", v)
		e.Ctx = map[string]any{"expected": elementTypes}
		errs = append(errs, e)
	}
	str("image_url", &el.URL)
	return el, errs
}

// laxBool accepts what pydantic's lax bool mode accepts.
func laxBool(raw json.RawMessage, loc []any) (bool, *imaging.FieldError) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		e := fieldErr(loc, "Input should be a valid boolean", "bool_type", raw)
		return false, &e
	}
	parsing := func() (bool, *imaging.FieldError) {
		e := fieldErr(loc, "Input should be a valid boolean, unable to interpret input", "bool_parsing", raw)
		return false, &e
	}
	switch x := v.(type) {
	case bool:
		return x, nil
	case json.Number:
		f, err := x.Float64()
		if err == nil && (f == 0 || f == 1) {
			return f == 1, nil
		}
		return parsing()
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "1", "on", "t", "true", "y", "yes":
			return true, nil
		case "0", "off", "f", "false", "n", "no":
			return false, nil
		}
		return parsing()
	}
	e := fieldErr(loc, "Input should be a valid boolean", "bool_type", raw)
	return false, &e
}

// checkBatchElements answers which element ids do not name an Image widget
// of the canvas (results are saved on them).
func (s *API) checkBatchElements(canvasID string, req *batchRequest) []imaging.FieldError {
	var errs []imaging.FieldError
	s.St.View(func(tx *store.Tx) error {
		for i, el := range req.Elements {
			w, err := tx.Widget(canvasID, el.ID)
			msg := ""
			switch {
			case err != nil || el.ID == "":
				msg = "no element with this id on the canvas"
			case w.Type != "Image":
				msg = "element is a " + w.Type + ", not an image"
			default:
				continue
			}
			e := fieldErr([]any{"body", "elements", i, "element_id"}, "Value error, "+msg, "value_error", el.ID)
			e.Ctx = map[string]any{"error": msg}
			errs = append(errs, e)
		}
		return nil
	})
	return errs
}

// signedIn is the caller of a batch route, who must have a token (a link
// permission alone is not enough: batches belong to a user).
func signedIn(c *gin.Context) (*store.User, bool) {
	u := core.UserOf(c)
	if u == nil {
		DealFail(c, http.StatusUnauthorized, "Not authenticated")
	}
	return u, u != nil
}

func (s *API) BatchDigitize(reg *core.LogRegistry) gin.HandlerFunc {
	return func(c *gin.Context) {
		u, ok := signedIn(c)
		if !ok {
			return
		}
		body, err := core.ReadBody(c, core.MaxJSONBody)
		if err != nil {
			core.DetailError(c, http.StatusRequestEntityTooLarge, "Request body too large")
			return
		}
		req, errs := parseBatchDigitize(body)
		if len(errs) == 0 {
			errs = s.checkBatchElements(core.CanvasOf(c).ID, req)
		}
		if len(errs) > 0 {
			core.ValidationError(c, errs)
			return
		}
		if s.Ctx.Err() != nil {
			c.Header("Retry-After", "1")
			core.DetailError(c, http.StatusServiceUnavailable, "Server shutting down")
			return
		}
		log := core.NewEventLog(uuid.NewString(), core.CanvasOf(c).ID, u.ID)
		reg.Add(log)

		sctx, end := s.OpenSSE(c)
		defer end()
		ctx, cancel := context.WithCancel(sctx)
		defer cancel()
		st := s.StartSSE(c)
		// The work runs beside the writer so that keepalives flow during a
		// long element. Its context is the stream's: a client that leaves
		// cancels what is left, and what is finished stays saved.
		wc := c.Copy()
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.runBatch(ctx, wc, log, req)
		}()
		s.Follow(ctx, st, log, 0)
		cancel()
		<-done
	}
}

// BatchEvents replays a batch's events after Last-Event-ID, then follows it
// live while it runs. Only the user who started the batch may read it.
func (s *API) BatchEvents(reg *core.LogRegistry) gin.HandlerFunc {
	return func(c *gin.Context) {
		u, ok := signedIn(c)
		if !ok {
			return
		}
		l := reg.Get(c.Param("batch"))
		if l == nil || l.CanvasID != core.CanvasOf(c).ID || l.UserID != u.ID {
			core.DetailError(c, http.StatusNotFound, "Batch not found")
			return
		}
		var after uint64
		loc := []any{"header", "last-event-id"}
		raw := strings.TrimSpace(c.GetHeader("Last-Event-ID"))
		if raw == "" {
			raw, loc = strings.TrimSpace(c.Query("last_event_id")), []any{"query", "last_event_id"}
		}
		if raw != "" {
			n, err := strconv.ParseUint(raw, 10, 64)
			if err != nil {
				core.ValidationError(c, []imaging.FieldError{fieldErr(loc, "Input should be a valid integer, unable to parse string as an integer", "int_parsing", raw)})
				return
			}
			after = n
		}
		ctx, done := s.OpenSSE(c)
		defer done()
		s.Follow(ctx, s.StartSSE(c), l, after)
	}
}

// elementError is an element's failure as its event shows it.
type elementError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *elementError) Error() string { return e.Code + ": " + e.Message }

// elementOutcome is what one digitized element produced.
type elementOutcome struct {
	result  any             // *digitize.TableResult, *chart.Result or *digitize.TextResult
	table   *digitize.Table // the data of a table or chart, nil for text
	engine  digitize.Engine
	widget  string // id of the Table widget holding table
	elapsed time.Duration
}

func (s *API) runBatch(ctx context.Context, c *gin.Context, log *core.EventLog, req *batchRequest) {
	start := time.Now()
	log.Append("batch.started", gin.H{"batch_id": log.ID, "total": len(req.Elements), "stitch": req.Stitch})
	succeeded, failed := 0, 0
	var tables []*digitize.Table
	var tableIDs, tableFailed []string
	var firstEngine digitize.Engine
	started := 0
	for i, el := range req.Elements {
		if ctx.Err() != nil {
			break
		}
		started++
		log.Append("element.started", gin.H{"index": i, "element_id": el.ID})
		out, eerr := s.digitizeElement(ctx, c, log.ID, el)
		if eerr != nil {
			failed++
			if el.Type == "table" {
				tableFailed = append(tableFailed, el.ID)
			}
			log.Append("element.failed", gin.H{"index": i, "element_id": el.ID, "error": eerr})
			continue
		}
		succeeded++
		if el.Type == "table" {
			if len(tables) == 0 {
				firstEngine = out.engine
			}
			tables = append(tables, out.table)
			tableIDs = append(tableIDs, el.ID)
		}
		ev := gin.H{"index": i, "element_id": el.ID, "element_type": el.Type, "result": out.result}
		if out.widget != "" {
			ev["table_widget_id"] = out.widget
		}
		log.Append("element.completed", ev)
	}
	if req.Stitch {
		switch {
		case ctx.Err() != nil:
			log.Append("stitch.skipped", gin.H{"reason": "the batch was cancelled"})
		case len(tableFailed) > 0:
			log.Append("stitch.skipped", gin.H{"reason": "table elements failed: " + strings.Join(tableFailed, ", ")})
		default:
			s.stitchTables(c, log, tables, tableIDs, firstEngine)
		}
	}
	end := gin.H{"succeeded": succeeded, "failed": failed, "duration_ms": time.Since(start).Milliseconds()}
	if started < len(req.Elements) || ctx.Err() != nil {
		end["cancelled"] = true
		end["not_started"] = len(req.Elements) - started
	}
	log.Append("batch.completed", end)
	log.Finish(s.Now())
}

// digitizeElement loads, reads and saves one element.
func (s *API) digitizeElement(ctx context.Context, c *gin.Context, batchID string, el batchElement) (*elementOutcome, *elementError) {
	data, err := s.LoadImageURL(ctx, c, el.URL)
	if err != nil {
		return nil, loadError(ctx, err)
	}
	// The decode guard's weight comes from the header; a bad header fails
	// in analyse, without a slot.
	_, _, _, cost, _ := s.DecodeCost(data)
	if err := s.Guard.Acquire(ctx, cost, 0); err != nil {
		var ob *core.OverBudgetError
		if errors.As(err, &ob) {
			return nil, &elementError{"too_large", ob.Error()}
		}
		return nil, &elementError{"cancelled", "the batch was cancelled"}
	}
	start := time.Now()
	actx, cancel := context.WithTimeout(ctx, s.DigitizeTimeout)
	out, eerr := s.analyse(actx, el.Type, data)
	cancel()
	s.Guard.Release(cost)
	if eerr != nil {
		return nil, eerr
	}
	out.elapsed = time.Since(start)
	s.Metrics.OpDuration.WithLabelValues("digitize").Observe(out.elapsed.Seconds())
	// Saved even when the batch was cancelled meanwhile: the work is done.
	wid, err := s.saveDigitized(c, batchID, el, out)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, &elementError{"not_found", "the element was deleted while it was being digitized"}
		}
		s.logBatchError(c, batchID, err, "save digitize result")
		return nil, &elementError{"internal_error", "could not save the result"}
	}
	out.widget = wid
	return out, nil
}

// logBatchError logs a server-side failure of a batch's worker (which runs
// on a copy of the request context, so c.Error would not reach the request log).
func (s *API) logBatchError(c *gin.Context, batchID string, err error, what string) {
	s.Log.Error().Err(err).Str("request_id", c.GetString("request_id")).Str("batch_id", batchID).Msg(what)
}

func loadError(ctx context.Context, err error) *elementError {
	var fe *core.FetchError
	switch {
	case errors.As(err, &fe):
		if ctx.Err() != nil && fe.Code == "fetch_failed" {
			return &elementError{"cancelled", "the batch was cancelled"}
		}
		return &elementError{fe.Code, fe.Msg}
	case ctx.Err() != nil:
		return &elementError{"cancelled", "the batch was cancelled"}
	}
	return &elementError{"fetch_failed", err.Error()}
}

// analyse decodes data under the pixel guard and runs the element type's
// pipeline. A panic in the pipeline fails this element only.
func (s *API) analyse(ctx context.Context, typ string, data []byte) (out *elementOutcome, eerr *elementError) {
	defer func() {
		if r := recover(); r != nil {
			s.Log.Error().Interface("panic", r).Bytes("stack", debug.Stack()).Str("element_type", typ).Msg("digitize panic")
			out, eerr = nil, &elementError{"internal_error", "the " + typ + " pipeline failed on this image"}
		}
	}()
	img, _, err := imaging.Decode(data, s.Limits())
	if err != nil {
		if errors.Is(err, imaging.ErrTooManyPixels) {
			return nil, &elementError{"too_large", err.Error()}
		}
		return nil, &elementError{"unsupported_format", "the image could not be decoded: " + err.Error()}
	}
	out, err = runPipeline(ctx, s.OCR, typ, img)
	switch {
	case err == nil:
		return out, nil
	case errors.Is(err, chart.ErrUnsupported):
		return nil, &elementError{"unsupported_chart", "not a vertical bar, horizontal bar or line chart with a readable data series"}
	case errors.Is(err, context.DeadlineExceeded):
		return nil, &elementError{"timeout", fmt.Sprintf("digitizing took longer than %s", s.DigitizeTimeout)}
	case errors.Is(err, context.Canceled):
		return nil, &elementError{"cancelled", "the batch was cancelled"}
	}
	return nil, &elementError{"digitize_failed", err.Error()}
}

// runPipeline reads img as typ, with the server's OCR setting.
func runPipeline(ctx context.Context, eng ocr.Engine, typ string, img image.Image) (*elementOutcome, error) {
	switch typ {
	case "table":
		r, err := digitize.Reader{OCR: eng}.ReadTable(ctx, img)
		if err != nil {
			return nil, err
		}
		r.Warnings = nonNil(r.Warnings)
		t := r.Table
		return &elementOutcome{result: r, table: &t, engine: r.Engine}, nil
	case "chart":
		r, err := chart.Reader{OCR: eng}.Digitize(ctx, img)
		if err != nil {
			return nil, err
		}
		r.Warnings = nonNil(r.Warnings)
		t, _ := r.Table.(*digitize.Table)
		if t != nil && (t.NRows == 0 || t.NCols == 0) {
			t = nil
		}
		return &elementOutcome{result: r, table: t, engine: r.Engine}, nil
	default:
		r, err := digitize.Reader{OCR: eng}.ReadText(ctx, img)
		if err != nil {
			return nil, err
		}
		r.Warnings = nonNil(r.Warnings)
		if r.Lines == nil {
			r.Lines = []digitize.Line{}
		}
		return &elementOutcome{result: r, engine: r.Engine}, nil
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// digitizedRecord is what an image element keeps of its last digitize; the
// widget's GET shows it as "digitized".
type digitizedRecord struct {
	ElementType   string          `json:"element_type"`
	BatchID       string          `json:"batch_id"`
	DigitizedAt   string          `json:"digitized_at"`
	TableWidgetID string          `json:"table_widget_id,omitempty"`
	Result        json.RawMessage `json:"result"`
}

// saveDigitized stores the result on the element and, for tables and charts,
// creates or updates the element's Table widget, in one transaction: the
// Table widget's event first, then ELEMENT_DIGITIZED. It returns the Table
// widget's id.
func (s *API) saveDigitized(c *gin.Context, batchID string, el batchElement, out *elementOutcome) (string, error) {
	result, err := json.Marshal(out.result)
	if err != nil {
		return "", fmt.Errorf("encode %s result: %w", el.Type, err)
	}
	canvasID := core.CanvasOf(c).ID
	newID := uuid.NewString()
	var tableID string
	err = s.St.WriteAs(core.IDOf(core.UserOf(c)), func(tx *store.Tx) error {
		tableID = ""
		w, err := tx.Widget(canvasID, el.ID)
		if err != nil {
			return err // ErrNotFound is a 404; a failed read a 500
		}
		if w.Type != "Image" {
			return store.ErrNotFound
		}
		rec := digitizedRecord{ElementType: el.Type, BatchID: batchID, DigitizedAt: store.FormatTime(tx.Now()), Result: result}
		if out.table != nil {
			var prev digitizedRecord
			json.Unmarshal(w.Digitized, &prev)
			var tw *store.Widget
			if prev.TableWidgetID != "" {
				// The element's Table widget may have been deleted (then a
				// new one is made); a failed read is not a deletion.
				if tw, err = tx.Widget(canvasID, prev.TableWidgetID); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
			}
			if tw == nil || tw.Type != "Table" || tw.Props["source_element_id"] != w.ID {
				props, err := tableWidgetPlacement(tx, w, 0)
				if err != nil {
					return err
				}
				tw = &store.Widget{ID: newID, CanvasID: canvasID, Type: "Table", Props: props}
			}
			tableProps(tw.Props, out.table)
			tw.Props["source_element_id"] = w.ID
			tw.Props["source_element_type"] = el.Type
			tw.Props["title"] = tableTitle(w, el.Type)
			if tw.ID == newID {
				err = tx.CreateWidget(tw)
			} else {
				err = tx.UpdateWidget(tw, store.EvWidgetUpdated, nil)
			}
			if err != nil {
				return err
			}
			tableID, rec.TableWidgetID = tw.ID, tw.ID
		}
		raw, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		w.Digitized = raw
		return tx.UpdateWidget(w, store.EvElementDigitized, map[string]any{
			"element_id": w.ID, "element_type": el.Type, "batch_id": batchID, "table_widget_id": tableID})
	})
	return tableID, err
}

// tableWidgetPlacement is the new Table widget's place: beside its image
// (right of it by tableGap, plus dx), under the same parent, on top.
func tableWidgetPlacement(tx *store.Tx, img *store.Widget, dx float64) (map[string]any, error) {
	x, y := xyOf(img.Props["location"], "x", "y")
	w, _ := xyOf(img.Props["size"], "width", "height")
	scale, _ := img.Props["scale"].(float64)
	if scale <= 0 {
		scale = 1
	}
	top, err := core.TopDepth(tx, img.CanvasID, img.ParentID(), "")
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"location":  map[string]any{"x": core.Round6(x + w*scale + tableGap + dx), "y": y},
		"parent_id": img.ParentID(),
		"depth":     top + 1,
		"scale":     1.0, "pinned": false, "state": "normal",
	}, nil
}

func xyOf(v any, a, b string) (float64, float64) {
	m, _ := v.(map[string]any)
	x, _ := m[a].(float64)
	y, _ := m[b].(float64)
	return x, y
}

// tableProps writes a table's data into a Table widget's props; the size
// follows the cell count.
func tableProps(p map[string]any, t *digitize.Table) {
	cells := make([]map[string]any, 0, len(t.Cells))
	for _, c := range t.Cells {
		cells = append(cells, map[string]any{"r": c.R, "c": c.C, "rowspan": c.RowSpan, "colspan": c.ColSpan, "text": c.Text})
	}
	p["n_rows"], p["n_cols"], p["header_rows"], p["cells"] = t.NRows, t.NCols, t.HeaderRows, cells
	p["size"] = tableSize(t)
}

func tableSize(t *digitize.Table) map[string]any {
	return map[string]any{"width": float64(max(t.NCols, 1)) * tableCellW, "height": float64(max(t.NRows, 1)) * tableCellH}
}

func tableTitle(img *store.Widget, typ string) string {
	name, _ := img.Props["title"].(string)
	if name == "" {
		name, _ = img.Props["original_filename"].(string)
	}
	kind := "Table"
	if typ == "chart" {
		kind = "Chart data"
	}
	if name == "" {
		return kind
	}
	return kind + ": " + name
}

// stitchResult is a stitched table with its engine and warnings, like every
// other result.
type stitchResult struct {
	digitize.Table
	Engine   digitize.Engine `json:"engine"`
	Warnings []string        `json:"warnings"`
}

// stitchTables merges the batch's table results in order into one table
// held by its own Table widget.
func (s *API) stitchTables(c *gin.Context, log *core.EventLog, tables []*digitize.Table, ids []string, eng digitize.Engine) {
	merged, sources, reason := digitize.Stitch(tables, ids)
	if merged == nil {
		log.Append("stitch.skipped", gin.H{"reason": reason})
		return
	}
	eng.Pipeline = "stitch"
	res := stitchResult{Table: *merged, Engine: eng, Warnings: []string{}}
	if res.Cells == nil {
		res.Cells = []digitize.Cell{}
	}
	wid, err := s.saveStitched(c, merged, ids, sources)
	if err != nil {
		s.logBatchError(c, log.ID, err, "save stitched table")
		log.Append("stitch.skipped", gin.H{"reason": "the stitched table could not be saved"})
		return
	}
	log.Append("stitch.completed", gin.H{"result": res, "sources": sources, "table_widget_id": wid})
}

// saveStitched creates, or updates, the Table widget of a stitched table. A
// later batch stitching the same elements in the same order updates the
// same widget.
func (s *API) saveStitched(c *gin.Context, t *digitize.Table, ids []string, sources []digitize.StitchSource) (string, error) {
	canvasID := core.CanvasOf(c).ID
	newID := uuid.NewString()
	var out string
	srcIDs := make([]any, len(ids))
	for i, id := range ids {
		srcIDs[i] = id
	}
	srcJSON, _ := json.Marshal(sources)
	var srcList []any
	json.Unmarshal(srcJSON, &srcList)
	err := s.St.WriteAs(core.IDOf(core.UserOf(c)), func(tx *store.Tx) error {
		all, err := tx.Widgets(canvasID)
		if err != nil {
			return err
		}
		var tw, first, firstTable *store.Widget
		for _, w := range all {
			if w.ID == ids[0] {
				first = w
			}
			if w.Type != "Table" {
				continue
			}
			if st, _ := w.Props["stitched"].(bool); st && sameIDs(w.Props["source_element_ids"], ids) {
				tw = w
			} else if !st && w.Props["source_element_id"] == ids[0] {
				firstTable = w
			}
		}
		if tw == nil {
			if first == nil {
				return store.ErrNotFound
			}
			dx := 0.0
			if firstTable != nil {
				fw, _ := xyOf(firstTable.Props["size"], "width", "height")
				dx = fw + tableGap
			}
			props, err := tableWidgetPlacement(tx, first, dx)
			if err != nil {
				return err
			}
			tw = &store.Widget{ID: newID, CanvasID: canvasID, Type: "Table", Props: props}
		}
		tableProps(tw.Props, t)
		tw.Props["stitched"] = true
		tw.Props["source_element_ids"] = srcIDs
		tw.Props["sources"] = srcList
		tw.Props["title"] = fmt.Sprintf("Stitched table (%d parts)", len(ids))
		out = tw.ID
		if tw.ID == newID {
			return tx.CreateWidget(tw)
		}
		return tx.UpdateWidget(tw, store.EvWidgetUpdated, nil)
	})
	return out, err
}

func sameIDs(v any, ids []string) bool {
	l, ok := v.([]any)
	if !ok || len(l) != len(ids) {
		return false
	}
	for i := range l {
		if l[i] != ids[i] {
			return false
		}
	}
	return true
}
