package server

import (
	"errors"
	"net/http"

	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

// canvusError answers in the Canvus dialect: {"msg": "..."}.
func canvusError(c *gin.Context, code int, msg string) {
	c.AbortWithStatusJSON(code, gin.H{"msg": msg})
}

// canvusStoreError maps a store error to the Canvus dialect.
func canvusStoreError(c *gin.Context, err error, what string) {
	var inv *store.InvalidError
	switch {
	case errors.As(err, &inv):
		canvusError(c, http.StatusBadRequest, inv.Msg)
	case errors.Is(err, store.ErrNotFound):
		canvusError(c, http.StatusNotFound, what+" not found")
	case errors.Is(err, store.ErrForbidden):
		canvusError(c, http.StatusForbidden, "Permission denied")
	case errors.Is(err, store.ErrConflict):
		canvusError(c, http.StatusConflict, what+" already exists")
	default:
		c.Error(err)
		canvusError(c, http.StatusInternalServerError, "Internal server error")
	}
}

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
