package cropjobs

// Banner jobs of the crop-jobs dialect (/v1/banners/with-mask): submission,
// status, output files, and the worker pool that runs persisted jobs.
//
// Exactly once: a worker marks a job processing (StartJob), renders its
// outputs into blob files, and commits the outputs, the canvas widgets and
// the completed status in one transaction (CompleteJob). A crash before that
// commit leaves the job processing; the next start runs it again, and the
// blob files of the lost attempt are collected as orphans. After the commit
// the job is final and StartJob refuses it.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/canvasd/canvasd/imaging"
	"github.com/canvasd/canvasd/imaging/product"
	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

// Request limits of banner jobs.
const (
	maxJobInputs     = 10
	maxJobDimensions = 10
	maxJobLabels     = 20
	maxLabelLen      = 100
	StatusLimitMax   = 100
	statusLimitDef   = 20
)

const jobKindBanner = "banner"

// bannerParams are a banner job's settings, stored in store.Job.Params.
type bannerParams struct {
	Sizes      []dimension     `json:"sizes"`
	Margins    product.Margins `json:"margins"`
	Background string          `json:"background"`
	Format     string          `json:"format"`
}

// fileRef is an input or mask given by URL: "https://..." or {"url": "..."}
// (also {"image_url": "..."}).
type fileRef struct{ URL string }

func (f *fileRef) UnmarshalJSON(b []byte) error {
	if json.Unmarshal(b, &f.URL) == nil {
		return nil
	}
	var o struct {
		URL      string `json:"url"`
		ImageURL string `json:"image_url"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return errors.New(`a file is a URL string or {"url": "..."}`)
	}
	f.URL = o.URL
	if f.URL == "" {
		f.URL = o.ImageURL
	}
	return nil
}

// labelList accepts a JSON array of strings or one string.
type labelList []string

func (l *labelList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = labelList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("job_labels must be an array of strings")
	}
	*l = many
	return nil
}

// jobInputData is one input's bytes before they are stored.
type jobInputData struct {
	image, mask         []byte
	imageName, maskName string
}

// bannerSubmission is a validated banner job request.
type bannerSubmission struct {
	inputs   []jobInputData
	params   bannerParams
	labels   []string
	canvasID string
}

func (s *API) CreateBannerJob(c *gin.Context) {
	sub, jf := s.readBannerRequest(c)
	if jf == nil {
		jf = s.validateBanner(c, sub)
	}
	if jf != nil {
		core.JobError(c, jf.Code, jf.Msg)
		return
	}
	u := core.UserOf(c)
	params, err := json.Marshal(sub.params)
	if err != nil {
		answerJobErr(c, err)
		return
	}
	job := &store.Job{ID: uuid.NewString(), OwnerID: u.ID, Kind: jobKindBanner, Labels: sub.labels,
		CanvasID: sub.canvasID, Params: params}
	for attempt := 0; ; attempt++ {
		job.Inputs = job.Inputs[:0]
		for _, in := range sub.inputs {
			ih, err := s.St.PutBlobFile(in.image)
			if err != nil {
				answerJobErr(c, err)
				return
			}
			mh, err := s.St.PutBlobFile(in.mask)
			if err != nil {
				answerJobErr(c, err)
				return
			}
			job.Inputs = append(job.Inputs, store.JobInput{Image: ih, Mask: mh, ImageName: in.imageName, MaskName: in.maskName})
		}
		err = s.St.Write(func(tx *store.Tx) error {
			j := *job
			return tx.CreateJob(&j)
		})
		if err == nil || !errors.Is(err, store.ErrBlobGone) || attempt == 3 {
			break
		}
	}
	if err != nil {
		answerJobErr(c, err)
		return
	}
	s.jobs.enqueue(job.ID)
	c.JSON(http.StatusOK, gin.H{"job_id": job.ID, "status": store.JobPending})
}

// readBannerRequest reads the JSON or multipart form of a banner job, checks
// it, and then loads the URLs it names.
func (s *API) readBannerRequest(c *gin.Context) (*bannerSubmission, *core.ReqError) {
	sub := &bannerSubmission{}
	var fl *bannerFields
	var jf *core.ReqError
	if isMultipart(c) {
		fl, jf = s.readBannerForm(c, sub)
	} else {
		fl, jf = readBannerJSON(c, sub)
	}
	if jf != nil {
		return nil, jf
	}
	if jf := checkBanner(sub, fl); jf != nil {
		return nil, jf
	}
	// URLs are loaded last, after every cheap check passed.
	if jf := s.loadBannerURLs(c, sub, fl); jf != nil {
		return nil, jf
	}
	return sub, nil
}

// bannerFields are a banner request's settings as given, before checks.
type bannerFields struct {
	imageURLs, maskURLs []string
	dims                []dimension
	margins             json.RawMessage
	background, format  string
}

// readBannerForm reads the multipart form: uploads go to sub.inputs.
func (s *API) readBannerForm(c *gin.Context, sub *bannerSubmission) (*bannerFields, *core.ReqError) {
	f, jf := s.readCropForm(c, map[string]bool{"input_files": true, "input_files[]": true, "input_image": true,
		"mask_files": true, "mask_files[]": true, "mask_image": true})
	if jf != nil {
		return nil, jf
	}
	fl := &bannerFields{}
	imgs := f.FilesOf("input_files", "input_files[]", "input_image")
	masks := f.FilesOf("mask_files", "mask_files[]", "mask_image")
	for i, p := range imgs {
		in := jobInputData{image: p.Data, imageName: p.Filename}
		if i < len(masks) {
			in.mask, in.maskName = masks[i].Data, masks[i].Filename
		}
		sub.inputs = append(sub.inputs, in)
	}
	if len(masks) != len(imgs) {
		return nil, core.BadInput("give one mask_files part per input_files part: got %d inputs and %d masks", len(imgs), len(masks))
	}
	fl.imageURLs = append(f.Values["input_image_url"], f.Values["input_urls"]...)
	fl.maskURLs = append(f.Values["mask_image_url"], f.Values["mask_urls"]...)
	for _, one := range f.Values["output_dimensions"] {
		ds, err := parseDimensionList(one)
		if err != nil {
			return nil, core.BadInput("output_dimensions: %v", err)
		}
		fl.dims = append(fl.dims, ds...)
	}
	for _, v := range f.Values["job_labels"] {
		ls, err := parseLabelField(v)
		if err != nil {
			return nil, core.BadInput("%v", err)
		}
		sub.labels = append(sub.labels, ls...)
	}
	if m := f.Value("minimum_margins"); m != "" {
		if strings.HasPrefix(strings.TrimSpace(m), "{") {
			fl.margins = json.RawMessage(m)
		} else {
			fl.margins, _ = json.Marshal(m)
		}
	}
	fl.background, fl.format, sub.canvasID = f.Value("background"), f.Value("output_format"), f.Value("canvas_id")
	return fl, nil
}

// readBannerJSON reads the JSON body.
func readBannerJSON(c *gin.Context, sub *bannerSubmission) (*bannerFields, *core.ReqError) {
	body, jf := readJobBody(c)
	if jf != nil {
		return nil, jf
	}
	var req struct {
		InputFiles       []fileRef       `json:"input_files"`
		MaskFiles        []fileRef       `json:"mask_files"`
		InputImageURL    string          `json:"input_image_url"`
		MaskImageURL     string          `json:"mask_image_url"`
		OutputDimensions []dimension     `json:"output_dimensions"`
		JobLabels        labelList       `json:"job_labels"`
		MinimumMargins   json.RawMessage `json:"minimum_margins"`
		Background       string          `json:"background"`
		OutputFormat     string          `json:"output_format"`
		CanvasID         string          `json:"canvas_id"`
	}
	if err := core.DecodeJSON(body, &req); err != nil {
		return nil, core.BadInput("%v", err)
	}
	fl := &bannerFields{}
	for _, f := range req.InputFiles {
		fl.imageURLs = append(fl.imageURLs, f.URL)
	}
	for _, f := range req.MaskFiles {
		fl.maskURLs = append(fl.maskURLs, f.URL)
	}
	if req.InputImageURL != "" {
		fl.imageURLs = append(fl.imageURLs, req.InputImageURL)
	}
	if req.MaskImageURL != "" {
		fl.maskURLs = append(fl.maskURLs, req.MaskImageURL)
	}
	fl.dims, sub.labels, fl.margins = req.OutputDimensions, req.JobLabels, req.MinimumMargins
	fl.background, fl.format, sub.canvasID = req.Background, req.OutputFormat, req.CanvasID
	return fl, nil
}

// checkBanner checks counts, sizes, format, background, margins and labels,
// and sets sub.params.
func checkBanner(sub *bannerSubmission, fl *bannerFields) *core.ReqError {
	if len(fl.imageURLs) != len(fl.maskURLs) {
		return core.BadInput("give one mask URL per input URL: got %d inputs and %d masks", len(fl.imageURLs), len(fl.maskURLs))
	}
	if n := len(sub.inputs) + len(fl.imageURLs); n == 0 {
		return core.BadInput("at least one input is required: input_files with mask_files (uploads or URLs)")
	} else if n > maxJobInputs {
		return core.BadInput("at most %d inputs per job, got %d", maxJobInputs, n)
	}
	dims := fl.dims
	if len(dims) == 0 || len(dims) > maxJobDimensions {
		return core.BadInput("output_dimensions must list 1 to %d {width, height}, got %d", maxJobDimensions, len(dims))
	}
	for _, d := range dims {
		if err := d.check(); err != nil {
			return core.BadInput("output_dimensions: %v", err)
		}
	}
	var err error
	if sub.params.Format, err = parseFormat(fl.format); err != nil {
		return core.BadInput("%v", err)
	}
	if _, sub.params.Background, err = parseBackgroundFor(fl.background, "white", sub.params.Format); err != nil {
		return core.BadInput("background: %v", err)
	}
	if sub.params.Margins, err = parseMargins(fl.margins); err != nil {
		return core.BadInput("%v", err)
	}
	for _, d := range dims {
		if err := marginsFit(sub.params.Margins, d.Width, d.Height); err != nil {
			return core.BadInput("%v", err)
		}
	}
	sub.params.Sizes = dims
	if len(sub.labels) > maxJobLabels {
		return core.BadInput("at most %d job_labels", maxJobLabels)
	}
	for i, l := range sub.labels {
		l = strings.TrimSpace(l)
		if l == "" || len(l) > maxLabelLen {
			return core.BadInput("each job label must be 1 to %d characters", maxLabelLen)
		}
		sub.labels[i] = l
	}
	return nil
}

// loadBannerURLs loads each input URL and its mask URL into sub.inputs.
func (s *API) loadBannerURLs(c *gin.Context, sub *bannerSubmission, fl *bannerFields) *core.ReqError {
	for i := range fl.imageURLs {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 30*time.Second)
		img, err := s.LoadImageURL(ctx, c, fl.imageURLs[i])
		if err != nil {
			cancel()
			return urlLoadError(fmt.Sprintf("input_files[%d]", len(sub.inputs)), err)
		}
		mask, err := s.LoadImageURL(ctx, c, fl.maskURLs[i])
		cancel()
		if err != nil {
			return urlLoadError(fmt.Sprintf("mask_files[%d]", len(sub.inputs)), err)
		}
		sub.inputs = append(sub.inputs, jobInputData{image: img, mask: mask, imageName: fl.imageURLs[i], maskName: fl.maskURLs[i]})
	}
	return nil
}

// parseDimensionList reads a multipart output_dimensions value: a JSON array
// of {width, height} or "WxH", or "WxH" values separated by commas.
func parseDimensionList(v string) ([]dimension, error) {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "[") || strings.HasPrefix(v, "{") {
		if strings.HasPrefix(v, "{") {
			v = "[" + v + "]"
		}
		var ds []dimension
		if err := json.Unmarshal([]byte(v), &ds); err != nil {
			return nil, err
		}
		return ds, nil
	}
	var out []dimension
	for _, p := range strings.Split(v, ",") {
		d, err := parseDimension(p)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// parseLabelField reads a multipart job_labels value: a JSON array or a
// comma-separated list.
func parseLabelField(v string) ([]string, error) {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "[") {
		var ls []string
		if err := json.Unmarshal([]byte(v), &ls); err != nil {
			return nil, errors.New("job_labels must be a JSON array of strings or a comma-separated list")
		}
		return ls, nil
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out, nil
}

// validateBanner checks the inputs (raster images within the pixel limit,
// masks of the input's aspect ratio) and the canvas right, before anything
// is stored.
func (s *API) validateBanner(c *gin.Context, sub *bannerSubmission) *core.ReqError {
	for i, in := range sub.inputs {
		_, iw, ih, jf := s.inspectInput(fmt.Sprintf("input_files[%d]", i), in.image)
		if jf != nil {
			return jf
		}
		_, mw, mh, jf := s.inspectInput(fmt.Sprintf("mask_files[%d]", i), in.mask)
		if jf != nil {
			return jf
		}
		if mw != iw || mh != ih {
			ra, rb := float64(iw)/float64(ih), float64(mw)/float64(mh)
			if d := ra/rb - 1; d > 0.01 || d < -0.01 {
				return &core.ReqError{Code: http.StatusUnprocessableEntity, Msg: fmt.Sprintf("mask_files[%d] is %dx%d: a mask must have its input's size (%dx%d) or aspect ratio", i, mw, mh, iw, ih)}
			}
		}
	}
	if sub.canvasID == "" {
		return nil
	}
	u := core.UserOf(c)
	var jf *core.ReqError
	err := s.St.View(func(tx *store.Tx) error {
		cv, err := tx.Canvas(sub.canvasID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err // a failed read is not a missing canvas
		}
		if err != nil || cv.AccessFor(u) == store.AccessNone {
			jf = &core.ReqError{Code: http.StatusNotFound, Msg: "canvas_id: canvas not found"}
			return nil
		}
		if store.AccessRank(cv.AccessFor(u)) < store.AccessRank(store.AccessEdit) {
			jf = &core.ReqError{Code: http.StatusForbidden, Msg: "canvas_id: edit access to the canvas is required to place outputs on it"}
		}
		return nil
	})
	if err != nil {
		c.Error(fmt.Errorf("crop job: read canvas %s: %w", sub.canvasID, err))
		return &core.ReqError{Code: http.StatusInternalServerError, Msg: "internal error while reading the canvas"}
	}
	return jf
}

// statusRequest is a banner status request, checked.
type statusRequest struct {
	JobID        string    `json:"job_id"`
	JobLabels    labelList `json:"job_labels"`
	Start        *int      `json:"start"`
	Limit        *int      `json:"limit"`
	start, limit int
}

// readStatusRequest reads and checks the body: job_id or job_labels (not
// both), and the page (start >= 0, 1 <= limit <= statusLimitMax).
func readStatusRequest(c *gin.Context) (*statusRequest, *core.ReqError) {
	body, err := core.ReadBody(c, core.MaxJSONBody)
	if err != nil {
		if errors.Is(err, core.ErrBodyTooLarge) {
			return nil, &core.ReqError{Code: http.StatusRequestEntityTooLarge, Msg: "Request body too large"}
		}
		return nil, core.BadInput("Could not read request body")
	}
	req := &statusRequest{start: 0, limit: statusLimitDef}
	if err := core.DecodeJSON(body, req); err != nil {
		return nil, core.BadInput("%s", err.Error())
	}
	if req.Start != nil {
		req.start = *req.Start
	}
	if req.Limit != nil {
		req.limit = *req.Limit
	}
	if req.start < 0 {
		return nil, core.BadInput("start must be >= 0")
	}
	if req.limit < 1 || req.limit > StatusLimitMax {
		return nil, core.BadInput("limit must be between 1 and %d", StatusLimitMax)
	}
	return req, nil
}

// BannerJobStatus answers the status of the caller's jobs (an admin's: all
// jobs), by job_id or job_labels, a page at a time.
func (s *API) BannerJobStatus(c *gin.Context) {
	req, jf := readStatusRequest(c)
	if jf != nil {
		core.JobError(c, jf.Code, jf.Msg)
		return
	}
	u := core.UserOf(c)
	var jobs []*store.Job
	total := 0
	err := s.St.View(func(tx *store.Tx) error {
		if req.JobID != "" {
			j, err := tx.Job(req.JobID)
			found := err == nil && (u.Admin || j.OwnerID == u.ID)
			if len(req.JobLabels) > 0 {
				// job_id and job_labels together: an AND filter, which may
				// match nothing (200, empty lists).
				if !found || !hasAnyLabel(j.Labels, req.JobLabels) {
					return nil
				}
			} else if !found {
				return store.ErrNotFound
			}
			total = 1
			if req.start == 0 {
				jobs = []*store.Job{j}
			}
			return nil
		}
		f := store.JobFilter{Labels: req.JobLabels}
		if !u.Admin {
			f.OwnerID = u.ID
		}
		var err error
		jobs, total, err = tx.JobPage(f, req.start, req.limit)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		core.StoreFail(c, core.JobError, err, "job "+req.JobID)
		return
	}
	if err != nil {
		answerJobErr(c, err)
		return
	}
	outJobs, results, errs := s.statusJSON(c, jobs, req.JobID != "")
	c.JSON(http.StatusOK, gin.H{"jobs": outJobs, "results": results, "error_message": strings.Join(errs, "; "),
		"start": req.start, "limit": req.limit, "total": total})
}

// hasAnyLabel reports whether labels holds one of want (job_labels
// matches a job carrying at least one of them, as store.JobFilter does).
func hasAnyLabel(labels, want []string) bool {
	for _, l := range labels {
		for _, w := range want {
			if l == w {
				return true
			}
		}
	}
	return false
}

// statusJSON is the jobs and results lists of a status answer, and the
// jobs' errors (prefixed with their job id unless one job was asked for).
func (s *API) statusJSON(c *gin.Context, jobs []*store.Job, one bool) ([]gin.H, []gin.H, []string) {
	outJobs := make([]gin.H, 0, len(jobs))
	results := make([]gin.H, 0)
	var errs []string
	for _, j := range jobs {
		labels := j.Labels
		if labels == nil {
			labels = []string{}
		}
		oj := gin.H{"job_id": j.ID, "status": j.Status, "job_labels": labels}
		if j.Error != "" {
			oj["error_message"] = j.Error
			if one {
				errs = append(errs, j.Error)
			} else {
				errs = append(errs, "job "+j.ID+": "+j.Error)
			}
		}
		if j.CanvasID != "" {
			oj["canvas_id"] = j.CanvasID
		}
		outJobs = append(outJobs, oj)
		for _, o := range j.Outputs {
			r := gin.H{
				"output_image_url": s.outputURL(c, o.Blob, o.Format),
				"crop_coordinates": gin.H{"x": o.Crop[0], "y": o.Crop[1], "width": o.Crop[2], "height": o.Crop[3]},
				"job_id":           j.ID, "input_index": o.Input, "width": o.Width, "height": o.Height,
			}
			if o.WidgetID != "" {
				r["widget_id"] = o.WidgetID
			}
			results = append(results, r)
		}
	}
	return outJobs, results, errs
}

var outputFileName = regexp.MustCompile(`^([0-9a-f]{64})\.(png|jpg)$`)

// GetOutput serves a job or operation output to its owner (or an admin).
func (s *API) GetOutput(c *gin.Context) {
	m := outputFileName.FindStringSubmatch(c.Param("file"))
	if m == nil || !s.OutputVisible(core.UserOf(c), m[1]) {
		core.JobError(c, http.StatusNotFound, "output not found")
		return
	}
	ctype := "image/png"
	if m[2] == "jpg" {
		ctype = "image/jpeg"
	}
	s.ServeBlob(c, m[1], ctype, "", core.JobError)
}

// jobRunner is one server's job queue and worker pool.
type jobRunner struct {
	s      *API
	mu     sync.Mutex
	queue  []string
	queued map[string]bool
	wake   chan struct{}
	// depth is what this runner added to jobQueueDepth, taken back at stop.
	depth int
}

func newJobRunner(s *API) *jobRunner {
	return &jobRunner{s: s, queued: map[string]bool{}, wake: make(chan struct{}, 1)}
}

func (r *jobRunner) enqueue(ids ...string) {
	r.mu.Lock()
	n := 0
	for _, id := range ids {
		if !r.queued[id] {
			r.queued[id] = true
			r.queue = append(r.queue, id)
			n++
		}
	}
	r.depth += n
	r.mu.Unlock()
	r.s.Metrics.JobQueueDepth.Add(float64(n))
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *jobRunner) next() (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.queue) == 0 {
		return "", false
	}
	id := r.queue[0]
	r.queue = r.queue[1:]
	if len(r.queue) > 0 {
		select { // more work: pass the wake-up on to another worker
		case r.wake <- struct{}{}:
		default:
		}
	}
	return id, true
}

func (r *jobRunner) done() {
	r.mu.Lock()
	r.depth--
	r.mu.Unlock()
	r.s.Metrics.JobQueueDepth.Dec()
}

// start queues every unfinished job (pending, or processing when the last
// run was interrupted) and starts the workers.
func (r *jobRunner) start() {
	s := r.s
	var ids []string
	if err := s.St.View(func(tx *store.Tx) error {
		var err error
		ids, err = tx.UnfinishedJobs()
		return err
	}); err != nil {
		s.Log.Error().Err(err).Msg("list unfinished crop jobs")
	}
	r.enqueue(ids...)
	if len(ids) > 0 {
		s.Log.Info().Int("jobs", len(ids)).Msg("resuming crop jobs")
	}
	var wg sync.WaitGroup
	for range s.Cfg.JobWorkers {
		wg.Add(1)
		s.Bg.Add(1)
		go func() {
			defer s.Bg.Done()
			defer wg.Done()
			r.work()
		}()
	}
	s.Bg.Add(1)
	go func() {
		defer s.Bg.Done()
		wg.Wait()
		r.mu.Lock()
		left := r.depth
		r.depth = 0
		r.mu.Unlock()
		s.Metrics.JobQueueDepth.Sub(float64(left))
	}()
}

func (r *jobRunner) work() {
	ctx := r.s.Ctx
	for {
		id, ok := r.next()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-r.wake:
				continue
			}
		}
		if ctx.Err() != nil {
			return
		}
		r.s.runJob(ctx, id)
		r.done()
	}
}

// errJobInterrupted means shutdown stopped a job; it stays processing and
// runs again at the next start.
var errJobInterrupted = errors.New("job interrupted by shutdown")

// runJob runs one job to completion or failure.
func (s *API) runJob(ctx context.Context, id string) {
	var job *store.Job
	err := s.St.Write(func(tx *store.Tx) error {
		j, err := tx.StartJob(id)
		job = j
		return err
	})
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		return // already final: never done twice
	}
	if err != nil {
		if !errors.Is(err, store.ErrClosed) {
			s.Log.Error().Err(err).Str("job_id", id).Msg("start crop job")
		}
		return
	}
	start := time.Now()
	log := s.Log.With().Str("job_id", id).Int("attempt", job.Attempts).Logger()
	rendered, err := s.renderBanner(ctx, job)
	if errors.Is(err, errJobInterrupted) || ctx.Err() != nil {
		log.Info().Msg("crop job interrupted; it runs again at the next start")
		return
	}
	if err == nil {
		err = s.commitBanner(job, rendered)
	}
	if errors.Is(err, store.ErrClosed) {
		return
	}
	if err != nil {
		msg := err.Error()
		var jf *core.ReqError
		if !errors.As(err, &jf) {
			log.Error().Err(err).Msg("crop job failed")
		}
		ferr := s.St.Write(func(tx *store.Tx) error { _, err := tx.FailJob(id, msg); return err })
		if ferr != nil && !errors.Is(ferr, store.ErrConflict) && !errors.Is(ferr, store.ErrClosed) {
			log.Error().Err(ferr).Msg("record crop job failure")
		}
		return
	}
	s.Metrics.OpDuration.WithLabelValues("job").Observe(time.Since(start).Seconds())
	log.Info().Int("outputs", len(rendered)).Dur("duration", time.Since(start)).Msg("crop job completed")
}

// renderedOutput is an encoded output waiting for its commit.
type renderedOutput struct {
	out  store.JobOutput
	data []byte
}

// renderBanner makes every output of a job and writes their blob files. An
// error that is the input's fault is a *reqError whose message the owner sees.
func (s *API) renderBanner(ctx context.Context, job *store.Job) (out []renderedOutput, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.Log.Error().Interface("panic", p).Str("job_id", job.ID).Msg("crop job panic")
			out, err = nil, &core.ReqError{Code: http.StatusInternalServerError, Msg: "internal error while rendering the job"}
		}
	}()
	var p bannerParams
	if err := json.Unmarshal(job.Params, &p); err != nil {
		return nil, fmt.Errorf("job params: %w", err)
	}
	bg, err := product.ParseBackground(p.Background)
	if err != nil {
		return nil, &core.ReqError{Code: http.StatusBadRequest, Msg: err.Error()}
	}
	for i, in := range job.Inputs {
		imgData, err := s.St.ReadBlob(in.Image)
		if err != nil {
			return nil, fmt.Errorf("input %d: read image: %w", i, err)
		}
		maskData, err := s.St.ReadBlob(in.Mask)
		if err != nil {
			return nil, fmt.Errorf("input %d: read mask: %w", i, err)
		}
		// The decode guard (shared with the synchronous operations, so
		// memory stays bounded), waited for until ctx ends.
		weight := jobWeight(s, imgData, maskData, p)
		if err := s.Guard.Acquire(ctx, weight, 0); err != nil {
			var ob *core.OverBudgetError
			if errors.As(err, &ob) {
				return nil, &core.ReqError{Code: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf("input %d: %v", i, ob)}
			}
			return nil, errJobInterrupted
		}
		outs, err := s.renderInput(ctx, i, imgData, maskData, p, bg)
		s.Guard.Release(weight)
		if err != nil {
			return nil, err
		}
		out = append(out, outs...)
	}
	return out, nil
}

// jobWeight is the decode-guard weight of one job input: its image and mask
// decodes plus the largest output (the result and its encoding buffer).
func jobWeight(s *API, imgData, maskData []byte, p bannerParams) int64 {
	_, _, _, ci, _ := s.DecodeCost(imgData)
	_, _, _, cm, _ := s.DecodeCost(maskData)
	var out int64
	for _, d := range p.Sizes {
		out = max(out, 8*int64(d.Width)*int64(d.Height))
	}
	return s.Guard.Weigh(max(ci, cm), min(ci, cm)+out)
}

func (s *API) renderInput(ctx context.Context, i int, imgData, maskData []byte, p bannerParams, bg product.Background) ([]renderedOutput, error) {
	img, _, err := imaging.Decode(imgData, s.Limits())
	if err != nil {
		return nil, &core.ReqError{Code: http.StatusUnprocessableEntity, Msg: fmt.Sprintf("input %d: the image could not be decoded: %v", i, err)}
	}
	mask, _, err := imaging.Decode(maskData, s.Limits())
	if err != nil {
		return nil, &core.ReqError{Code: http.StatusUnprocessableEntity, Msg: fmt.Sprintf("input %d: the mask could not be decoded: %v", i, err)}
	}
	var out []renderedOutput
	for _, d := range p.Sizes {
		if ctx.Err() != nil {
			return nil, errJobInterrupted
		}
		res, rect, err := product.MaskCrop(img, mask, d.Width, d.Height, p.Margins, bg)
		if err != nil {
			return nil, &core.ReqError{Code: http.StatusUnprocessableEntity, Msg: fmt.Sprintf("input %d (%dx%d): %v", i, d.Width, d.Height, err)}
		}
		data, err := encodeOutput(res, p.Format)
		if err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
		h, err := s.St.PutBlobFile(data)
		if err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
		out = append(out, renderedOutput{data: data, out: store.JobOutput{Input: i, Width: d.Width, Height: d.Height,
			Blob: h, Format: p.Format, Crop: [4]float64{rect.X, rect.Y, rect.W, rect.H}}})
	}
	return out, nil
}

// commitBanner commits the outputs, their canvas widgets and the completed
// status in one transaction.
func (s *API) commitBanner(job *store.Job, rendered []renderedOutput) error {
	outs := make([]store.JobOutput, len(rendered))
	for i, r := range rendered {
		outs[i] = r.out
		if job.CanvasID != "" {
			outs[i].WidgetID = uuid.NewString()
		}
	}
	var err error
	for attempt := 0; ; attempt++ {
		err = s.St.WriteAs(job.OwnerID, func(tx *store.Tx) error {
			if _, err := tx.CompleteJob(job.ID, outs); err != nil {
				return err
			}
			if job.CanvasID != "" {
				return placeOutputs(tx, job, outs)
			}
			return nil
		})
		if !errors.Is(err, store.ErrBlobGone) || attempt == 3 {
			break
		}
		// A file was collected meanwhile (an identical blob was released):
		// write the files again and retry.
		for _, r := range rendered {
			if _, werr := s.St.PutBlobFile(r.data); werr != nil {
				return werr
			}
		}
	}
	return err
}

// placeOutputs puts every output of a job on its canvas as an Image widget,
// one row per input, in the job's completion transaction.
func placeOutputs(tx *store.Tx, job *store.Job, outs []store.JobOutput) error {
	cv, err := tx.Canvas(job.CanvasID)
	if errors.Is(err, store.ErrNotFound) {
		return &core.ReqError{Code: http.StatusNotFound, Msg: "canvas " + job.CanvasID + " no longer exists: the outputs could not be placed"}
	}
	if err != nil {
		return fmt.Errorf("place outputs: read canvas %s: %w", job.CanvasID, err)
	}
	owner, err := tx.User(job.OwnerID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("place outputs: read owner %d: %w", job.OwnerID, err)
	}
	if err != nil || store.AccessRank(cv.AccessFor(owner)) < store.AccessRank(store.AccessEdit) {
		return &core.ReqError{Code: http.StatusForbidden, Msg: "no edit access to canvas " + job.CanvasID + " any more: the outputs could not be placed"}
	}
	const gap = 40.0
	x, y, rowH, row := 0.0, 0.0, 0.0, -1
	for _, o := range outs {
		if o.Input != row {
			if row >= 0 {
				y += rowH + gap
			}
			x, rowH, row = 0, 0, o.Input
		}
		name := fmt.Sprintf("banner-%d-%dx%d.%s", o.Input+1, o.Width, o.Height, extOf(o.Format))
		w := &store.Widget{ID: o.WidgetID, CanvasID: cv.ID, Type: "Image", Props: core.DefaultProps("Image"),
			Blob: o.Blob, Format: o.Format, PixelW: o.Width, PixelH: o.Height, Filename: name,
			SourceBlob: o.Blob, SourceW: o.Width, SourceH: o.Height}
		w.Props["original_filename"] = name
		w.Props["title"] = fmt.Sprintf("%dx%d", o.Width, o.Height)
		w.Props["hash"] = core.PublicHash(o.Blob)
		w.Props["size"] = map[string]any{"width": float64(o.Width), "height": float64(o.Height)}
		w.Props["location"] = map[string]any{"x": x, "y": y}
		w.Props["parent_id"] = cv.RootWidget
		top, err := core.TopDepth(tx, cv.ID, cv.RootWidget, "")
		if err != nil {
			return err
		}
		w.Props["depth"] = top + 1
		w.Versions = []store.Version{{Version: 0, Blob: o.Blob, Width: o.Width, Height: o.Height,
			BBox: &[4]float64{0, 0, 1, 1}, Kind: "original", CreatedAt: tx.Now(), AuthorID: owner.ID, Author: owner.Name}}
		for _, b := range store.WidgetBlobs(w) {
			if err := tx.AddBlobRef(b); err != nil {
				return err
			}
		}
		if err := tx.CreateWidget(w); err != nil {
			return fmt.Errorf("place output: %w", err)
		}
		x += float64(o.Width) + gap
		rowH = max(rowH, float64(o.Height))
	}
	return nil
}

// readJobBody reads a crop-job JSON body, answering 413/400 as a reqError.
func readJobBody(c *gin.Context) ([]byte, *core.ReqError) {
	body, err := core.ReadBody(c, core.MaxJSONBody)
	if err != nil {
		if errors.Is(err, core.ErrBodyTooLarge) {
			return nil, &core.ReqError{Code: http.StatusRequestEntityTooLarge, Msg: "Request body too large"}
		}
		return nil, core.BadInput("Could not read request body")
	}
	return body, nil
}
