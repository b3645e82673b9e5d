package canvus

// The uploads folder (more/Uploads_Folder_API.md): POST
// /canvases/:id/uploads-folder makes a note (upload_type "note", a single
// json part) or a file widget (upload_type "", "asset" or missing, with a
// data part: an image, PDF or video). canvasd has no separate uploads container: an upload lands on
// the canvas's root widget, like a widget made through its own route.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/gin-gonic/gin"
)

// UploadToFolder is POST /canvases/:id/uploads-folder.
func (s *API) UploadToFolder(c *gin.Context) {
	parts, ok := s.uploadParts(c)
	if !ok {
		return
	}
	body := map[string]json.RawMessage{}
	if !decodeJSONPart(c, parts, &body) {
		return
	}
	uploadType := ""
	if raw, given := body["upload_type"]; given {
		if err := json.Unmarshal(raw, &uploadType); err != nil {
			core.CanvusError(c, http.StatusBadRequest, "Field 'upload_type' must be a string: note or asset")
			return
		}
		delete(body, "upload_type")
	}
	switch uploadType {
	case "note":
		if parts["data"] != nil {
			core.CanvusError(c, http.StatusBadRequest, "A note upload is a single 'json' part; it takes no 'data' part")
			return
		}
		k, _ := kindOf("Note")
		s.createWidget(c, k, body)
	case "", "asset":
		if parts["data"] == nil {
			core.CanvusError(c, http.StatusBadRequest, "Missing 'data' part: the file is required (or upload_type 'note' with a json part)")
			return
		}
		s.uploadAsset(c, parts, body)
	default:
		core.CanvusError(c, http.StatusBadRequest, fmt.Sprintf("Unknown upload_type '%s': note, asset, or none", uploadType))
	}
}

// uploadParts checks that the caller may upload and reads a multipart
// body of a "data" file part and an optional "json" part.
func (s *API) uploadParts(c *gin.Context) (map[string]*core.UploadPart, bool) {
	if !s.allowUpload(c) {
		return nil, false
	}
	return s.MultipartParts(c, core.CanvusError, map[string]bool{"data": true}, map[string]bool{"json": true})
}

// decodeJSONPart decodes the upload's "json" part, when there is one, into
// v, or answers 400.
func decodeJSONPart(c *gin.Context, parts map[string]*core.UploadPart, v any) bool {
	if j := parts["json"]; j != nil {
		if err := core.DecodeJSON(j.Data, v); err != nil {
			core.CanvusError(c, http.StatusBadRequest, "Invalid 'json' part: "+err.Error())
			return false
		}
	}
	return true
}

// uploadAsset recognizes the file's type and makes its widget: a PDF
// ("%PDF-") a Pdf widget, an MP4/QuickTime ("ftyp" box) or WebM/Matroska
// (EBML header) file a Video widget, anything else an Image widget, whose
// check refuses what is not an image, with its reason.
func (s *API) uploadAsset(c *gin.Context, parts map[string]*core.UploadPart, body map[string]json.RawMessage) {
	data := parts["data"].Data
	switch {
	case bytes.HasPrefix(data, []byte("%PDF-")):
		s.createMedia(c, "Pdf", parts["data"], body)
	case len(data) > 12 && (string(data[4:8]) == "ftyp" || bytes.HasPrefix(data, []byte{0x1a, 0x45, 0xdf, 0xa3})):
		s.createMedia(c, "Video", parts["data"], body)
	default:
		up, ok := imageUploadFrom(c, map[string]*core.UploadPart{"data": parts["data"]})
		if !ok {
			return
		}
		up.body = body
		s.createImage(c, up)
	}
}
