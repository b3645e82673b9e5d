package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Job statuses. A job moves pending -> processing -> completed or failed;
// processing goes back to processing (Attempts+1) when a restart finds it
// interrupted. completed and failed are final.
const (
	JobPending    = "pending"
	JobProcessing = "processing"
	JobCompleted  = "completed"
	JobFailed     = "failed"
)

// JobInput is one input of a crop job: an image and its mask, both blobs.
// The job holds one reference on each until it is completed or failed.
type JobInput struct {
	Image     string `json:"image"`
	Mask      string `json:"mask,omitempty"`
	ImageName string `json:"image_name,omitempty"`
	MaskName  string `json:"mask_name,omitempty"`
}

// JobOutput is one rendered output of a crop job. The job holds one reference
// on Blob for as long as the job exists.
type JobOutput struct {
	Input  int    `json:"input"` // index into Job.Inputs
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Blob   string `json:"blob"`
	Format string `json:"format"` // png, jpeg
	// Crop is the part of the input the output shows: x, y, w, h as fractions
	// of the input's width and height.
	Crop     [4]float64 `json:"crop"`
	WidgetID string     `json:"widget_id,omitempty"` // the Image widget placed on Job.CanvasID
}

// Job is a persisted crop job. Params holds the operation's settings, which
// only the server interprets.
type Job struct {
	ID       string          `json:"id"`
	Seq      uint64          `json:"seq"` // creation order, from the job_order bucket
	OwnerID  uint64          `json:"owner_id"`
	Kind     string          `json:"kind"` // e.g. "banner"
	Status   string          `json:"status"`
	Labels   []string        `json:"labels,omitempty"`
	CanvasID string          `json:"canvas_id,omitempty"`
	Inputs   []JobInput      `json:"inputs"`
	Params   json.RawMessage `json:"params,omitempty"`
	Outputs  []JobOutput     `json:"outputs,omitempty"`
	Error    string          `json:"error,omitempty"`
	// Attempts counts how often a worker took the job (more than 1 after a
	// restart interrupted it). Completions counts commits of the completed
	// status: it is 1 for a completed job and never more.
	Attempts    int       `json:"attempts"`
	Completions int       `json:"completions"`
	CreatedAt   time.Time `json:"created_at"`
	StartedAt   time.Time `json:"started_at,omitzero"`
	FinishedAt  time.Time `json:"finished_at,omitzero"`
}

// Final reports whether the job is completed or failed.
func (j *Job) Final() bool { return j.Status == JobCompleted || j.Status == JobFailed }

// HasAnyLabel reports whether the job carries at least one of labels.
func (j *Job) HasAnyLabel(labels []string) bool {
	for _, l := range labels {
		if slices.Contains(j.Labels, l) {
			return true
		}
	}
	return false
}

func (j *Job) inputBlobs() []string {
	var out []string
	for _, in := range j.Inputs {
		if in.Image != "" {
			out = append(out, in.Image)
		}
		if in.Mask != "" {
			out = append(out, in.Mask)
		}
	}
	return out
}

// CreateJob stores a new pending job, assigns its Seq and CreatedAt and
// references its input blobs (written before with Store.PutBlobFile).
func (t *Tx) CreateJob(j *Job) error {
	if j.ID == "" {
		return Invalidf("job id is required")
	}
	jobs := t.btx.Bucket(bucketJobs)
	if jobs.Get([]byte(j.ID)) != nil {
		return ErrConflict
	}
	order := t.btx.Bucket(bucketJobOrder)
	seq, err := order.NextSequence()
	if err != nil {
		return fmt.Errorf("create job: %w", err)
	}
	j.Seq, j.Status, j.CreatedAt = seq, JobPending, t.now
	j.Outputs, j.Error, j.Attempts, j.Completions = nil, "", 0, 0
	for _, h := range j.inputBlobs() {
		if err := t.AddBlobRef(h); err != nil {
			return err
		}
	}
	if err := order.Put(itob(seq), []byte(j.ID)); err != nil {
		return fmt.Errorf("create job: %w", err)
	}
	return putJSON(jobs, []byte(j.ID), j)
}

// Job returns one job.
func (t *Tx) Job(id string) (*Job, error) {
	j := &Job{}
	if err := getJSON(t.btx.Bucket(bucketJobs), []byte(id), j); err != nil {
		return nil, err
	}
	return j, nil
}

// JobFilter selects jobs for JobPage. Zero fields match everything.
type JobFilter struct {
	OwnerID uint64   // 0: every owner
	Labels  []string // jobs carrying at least one of them
}

// JobPage returns the jobs matching f in creation order, skipping the first
// start matches and returning at most limit, with the number of matches.
func (t *Tx) JobPage(f JobFilter, start, limit int) ([]*Job, int, error) {
	jobs := t.btx.Bucket(bucketJobs)
	var out []*Job
	total := 0
	c := t.btx.Bucket(bucketJobOrder).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		j := &Job{}
		if err := getJSON(jobs, v, j); err != nil {
			return nil, 0, fmt.Errorf("job %s: %w", v, err)
		}
		if f.OwnerID != 0 && j.OwnerID != f.OwnerID {
			continue
		}
		if len(f.Labels) > 0 && !j.HasAnyLabel(f.Labels) {
			continue
		}
		if total >= start && len(out) < limit {
			out = append(out, j)
		}
		total++
	}
	return out, total, nil
}

// UnfinishedJobs lists the ids of pending and processing jobs in creation
// order: what a starting server must (re)run.
func (t *Tx) UnfinishedJobs() ([]string, error) {
	jobs := t.btx.Bucket(bucketJobs)
	var out []string
	c := t.btx.Bucket(bucketJobOrder).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		j := &Job{}
		if err := getJSON(jobs, v, j); err != nil {
			return nil, fmt.Errorf("job %s: %w", v, err)
		}
		if !j.Final() {
			out = append(out, j.ID)
		}
	}
	return out, nil
}

// StartJob marks a pending or interrupted job processing and counts the
// attempt. A final job answers ErrConflict: it is never run again.
func (t *Tx) StartJob(id string) (*Job, error) {
	j, err := t.Job(id)
	if err != nil {
		return nil, err
	}
	if j.Final() {
		return nil, ErrConflict
	}
	j.Status = JobProcessing
	j.Attempts++
	j.StartedAt = t.now
	return j, putJSON(t.btx.Bucket(bucketJobs), []byte(j.ID), j)
}

// CompleteJob commits a processing job's outputs and its completed status
// together: it references every output blob, indexes the outputs for their
// owner, releases the inputs and counts the completion. Anything else the
// caller does in the same transaction (placing the outputs on a canvas)
// commits with it. A job that is not processing answers ErrConflict, so a
// job is completed at most once.
func (t *Tx) CompleteJob(id string, outputs []JobOutput) (*Job, error) {
	j, err := t.Job(id)
	if err != nil {
		return nil, err
	}
	if j.Status != JobProcessing {
		return nil, ErrConflict
	}
	idx := t.btx.Bucket(bucketOutputs)
	for _, o := range outputs {
		if err := t.AddBlobRef(o.Blob); err != nil {
			return nil, err
		}
		if err := idx.Put(outputKey(o.Blob, j.OwnerID), []byte(j.ID)); err != nil {
			return nil, fmt.Errorf("complete job: %w", err)
		}
	}
	if err := t.releaseJobInputs(j); err != nil {
		return nil, err
	}
	j.Outputs = append([]JobOutput(nil), outputs...)
	j.Status, j.Error, j.FinishedAt = JobCompleted, "", t.now
	j.Completions++
	return j, putJSON(t.btx.Bucket(bucketJobs), []byte(j.ID), j)
}

// FailJob marks a job failed with a message for its owner and releases its
// inputs. A final job answers ErrConflict.
func (t *Tx) FailJob(id, msg string) (*Job, error) {
	j, err := t.Job(id)
	if err != nil {
		return nil, err
	}
	if j.Final() {
		return nil, ErrConflict
	}
	if err := t.releaseJobInputs(j); err != nil {
		return nil, err
	}
	j.Status, j.Error, j.FinishedAt = JobFailed, msg, t.now
	return j, putJSON(t.btx.Bucket(bucketJobs), []byte(j.ID), j)
}

func (t *Tx) releaseJobInputs(j *Job) error {
	for _, h := range j.inputBlobs() {
		if err := t.ReleaseBlob(h); err != nil {
			return err
		}
	}
	return nil
}

// AddOutput records the output of a synchronous operation for its owner,
// referencing the blob once per (blob, owner): asking for the same result
// again stores nothing new.
func (t *Tx) AddOutput(hash string, owner uint64) error {
	idx := t.btx.Bucket(bucketOutputs)
	k := outputKey(hash, owner)
	if idx.Get(k) != nil {
		return nil
	}
	if err := t.AddBlobRef(hash); err != nil {
		return err
	}
	return idx.Put(k, []byte{})
}

// OutputOwned reports whether hash is an output of owner's (a job's or a
// synchronous operation's). With owner 0 it reports whether hash is anyone's
// output.
func (t *Tx) OutputOwned(hash string, owner uint64) bool {
	idx := t.btx.Bucket(bucketOutputs)
	if owner != 0 {
		return idx.Get(outputKey(hash, owner)) != nil
	}
	prefix := append([]byte(hash), 0)
	k, _ := idx.Cursor().Seek(prefix)
	return k != nil && bytes.HasPrefix(k, prefix)
}
