package core

import (
	"net/http"

	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

func (s *Server) updateStoreGauges() {
	m := s.Metrics
	s.St.View(func(tx *store.Tx) error {
		m.eventLogSize.Set(float64(tx.LogSize()))
		n, b := tx.BlobStats()
		m.blobCount.Set(float64(n))
		m.blobBytes.Set(float64(b))
		return nil
	})
	st := s.St.DB().Stats()
	m.boltTx.WithLabelValues("read_tx_total").Set(float64(st.TxN))
	m.boltTx.WithLabelValues("read_tx_open").Set(float64(st.OpenTxN))
	m.boltTx.WithLabelValues("pages_allocated").Set(float64(st.TxStats.GetPageCount()))
	m.boltTx.WithLabelValues("writes").Set(float64(st.TxStats.GetWrite()))
	m.boltTx.WithLabelValues("write_seconds").Set(st.TxStats.GetWriteTime().Seconds())
}

func (s *Server) Readyz(c *gin.Context) {
	if s.Ctx.Err() != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "shutting down"})
		return
	}
	if err := s.St.View(func(tx *store.Tx) error { _, err := tx.Folder(s.St.RootFolder()); return err }); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "store unavailable"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}
