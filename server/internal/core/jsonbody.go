//lint:file-ignore ST1005 these errors are the user-facing {"msg"} texts, capitalised as the Canvus API writes its messages

package core

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"
)

// MaxJSONBody caps JSON request bodies.
const MaxJSONBody = 1 << 20

var ErrBodyTooLarge = errors.New("request body too large")

// ReadBody reads at most limit bytes of the request body.
func ReadBody(c *gin.Context, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, limit+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, ErrBodyTooLarge
		}
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, ErrBodyTooLarge
	}
	return body, nil
}

// DecodeJSON decodes the body into v; an empty body decodes as {}. It
// describes type errors by field so clients can fix them.
func DecodeJSON(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return describeJSONError(err)
	}
	if dec.More() {
		return errors.New("Invalid JSON: unexpected data after the object")
	}
	return nil
}

func describeJSONError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Errorf("Invalid value for field '%s': expected %s, got %s", te.Field, te.Type.String(), te.Value)
		}
		return fmt.Errorf("Invalid JSON: expected %s, got %s", te.Type.String(), te.Value)
	case errors.As(err, &se):
		return fmt.Errorf("Invalid JSON at offset %d: %v", se.Offset, se)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("Invalid JSON: unexpected end of input")
	}
	return fmt.Errorf("Invalid JSON: %v", err)
}

// CanvusJSON reads and decodes a Canvus request body, answering 400/413 itself.
func CanvusJSON(c *gin.Context, v any) bool {
	body, err := ReadBody(c, MaxJSONBody)
	if err != nil {
		if errors.Is(err, ErrBodyTooLarge) {
			CanvusError(c, http.StatusRequestEntityTooLarge, "Request body too large")
			return false
		}
		CanvusError(c, http.StatusBadRequest, "Could not read request body")
		return false
	}
	if err := DecodeJSON(body, v); err != nil {
		CanvusError(c, http.StatusBadRequest, err.Error())
		return false
	}
	return true
}
