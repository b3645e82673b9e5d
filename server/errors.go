package server

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

// reqError is a refused request, before the dialect shapes it: a status
// and a message, for the dialect's error writer (readMultipart, the crop
// jobs' validation).
type reqError struct {
	code int
	msg  string
}

func (e *reqError) Error() string { return e.msg }

func badInput(format string, args ...any) *reqError {
	return &reqError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// canvusError answers in the Canvus dialect: {"msg": "..."}.
func canvusError(c *gin.Context, code int, msg string) {
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

// storeFail answers a store error with the dialect's writer fail (a 500
// is also recorded for the request log).
func storeFail(c *gin.Context, fail func(*gin.Context, int, string), err error, what string) {
	code, msg := storeStatus(err, what)
	if code == http.StatusInternalServerError {
		c.Error(err)
	}
	fail(c, code, msg)
}

// canvusStoreError maps a store error to the Canvus dialect.
func canvusStoreError(c *gin.Context, err error, what string) { storeFail(c, canvusError, err, what) }

// detailError answers in the deal-canvas dialect: {"detail": "..."}.
func detailError(c *gin.Context, code int, msg string) {
	c.AbortWithStatusJSON(code, gin.H{"detail": msg})
}

// validationError answers 422 in the HTTPValidationError shape.
func validationError(c *gin.Context, items any) {
	c.AbortWithStatusJSON(http.StatusUnprocessableEntity, gin.H{"detail": items})
}

// clipdropError answers in the uncrop dialect: {"error": "..."}.
func clipdropError(c *gin.Context, code int, msg string) {
	c.AbortWithStatusJSON(code, gin.H{"error": msg})
}

// jobError answers in the crop-jobs dialect: {"error_message": "..."}.
func jobError(c *gin.Context, code int, msg string) {
	c.AbortWithStatusJSON(code, gin.H{"error_message": msg})
}
