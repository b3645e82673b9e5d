package core

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

// ReqError is a refused request, before the dialect shapes it: a status
// and a message, for the dialect's error writer (readMultipart, the crop
// jobs' validation).
type ReqError struct {
	Code int
	Msg  string
}

func (e *ReqError) Error() string { return e.Msg }

func BadInput(format string, args ...any) *ReqError {
	return &ReqError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// CanvusError answers in the Canvus dialect: {"msg": "..."}.
func CanvusError(c *gin.Context, code int, msg string) {
	c.AbortWithStatusJSON(code, gin.H{"msg": msg})
}

// storeStatuses is the one mapping of store errors to statuses and
// messages ("what" names the thing, e.g. "Canvas"); every dialect answers
// store errors through it (storeFail), in its own shape.
var storeStatuses = []struct {
	err  error
	code int
	msg  func(what string) string
}{
	{store.ErrNotFound, http.StatusNotFound, func(what string) string { return what + " not found" }},
	{store.ErrForbidden, http.StatusForbidden, func(string) string { return "Permission denied" }},
	{store.ErrConflict, http.StatusConflict, func(what string) string { return what + " already exists" }},
}

// storeStatus maps err by storeStatuses; a store.InvalidError is a 400
// with its message, anything else a 500.
func storeStatus(err error, what string) (int, string) {
	var inv *store.InvalidError
	if errors.As(err, &inv) {
		return http.StatusBadRequest, inv.Msg
	}
	for _, m := range storeStatuses {
		if errors.Is(err, m.err) {
			return m.code, m.msg(what)
		}
	}
	return http.StatusInternalServerError, "Internal server error"
}

// StoreFail answers a store error with the dialect's writer fail (a 500
// is also recorded for the request log).
func StoreFail(c *gin.Context, fail func(*gin.Context, int, string), err error, what string) {
	code, msg := storeStatus(err, what)
	if code == http.StatusInternalServerError {
		c.Error(err)
	}
	fail(c, code, msg)
}

// CanvusStoreError maps a store error to the Canvus dialect.
func CanvusStoreError(c *gin.Context, err error, what string) { StoreFail(c, CanvusError, err, what) }

// DetailError answers in the deal-canvas dialect: {"detail": "..."}.
func DetailError(c *gin.Context, code int, msg string) {
	c.AbortWithStatusJSON(code, gin.H{"detail": msg})
}

// ValidationError answers 422 in the HTTPValidationError shape.
func ValidationError(c *gin.Context, items any) {
	c.AbortWithStatusJSON(http.StatusUnprocessableEntity, gin.H{"detail": items})
}

// ClipdropError answers in the uncrop dialect: {"error": "..."}.
func ClipdropError(c *gin.Context, code int, msg string) {
	c.AbortWithStatusJSON(code, gin.H{"error": msg})
}

// JobError answers in the crop-jobs dialect: {"error_message": "..."}.
func JobError(c *gin.Context, code int, msg string) {
	c.AbortWithStatusJSON(code, gin.H{"error_message": msg})
}
