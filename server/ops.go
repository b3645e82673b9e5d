package server

import (
	"net/http"

	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	eventLogSize = prometheus.NewGauge(prometheus.GaugeOpts{Name: "canvasd_event_log_events", Help: "Events retained in all canvas logs."})
	blobBytes    = prometheus.NewGauge(prometheus.GaugeOpts{Name: "canvasd_blob_bytes", Help: "Bytes of referenced blob files."})
	blobCount    = prometheus.NewGauge(prometheus.GaugeOpts{Name: "canvasd_blobs", Help: "Referenced blob files."})
	boltTx       = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "canvasd_bbolt_tx", Help: "bbolt transaction stats (cumulative)."}, []string{"stat"})
)

func init() { Registry.MustRegister(eventLogSize, blobBytes, blobCount, boltTx) }

func (s *Server) updateStoreGauges() {
	s.st.View(func(tx *store.Tx) error {
		eventLogSize.Set(float64(tx.LogSize()))
		n, b := tx.BlobStats()
		blobCount.Set(float64(n))
		blobBytes.Set(float64(b))
		return nil
	})
	st := s.st.DB().Stats()
	boltTx.WithLabelValues("read_tx_total").Set(float64(st.TxN))
	boltTx.WithLabelValues("read_tx_open").Set(float64(st.OpenTxN))
	boltTx.WithLabelValues("pages_allocated").Set(float64(st.TxStats.GetPageCount()))
	boltTx.WithLabelValues("writes").Set(float64(st.TxStats.GetWrite()))
	boltTx.WithLabelValues("write_seconds").Set(st.TxStats.GetWriteTime().Seconds())
}

func init() {
	extraRouteHooks = append(extraRouteHooks, func(s *Server, r *gin.Engine) {
		r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
		r.GET("/readyz", s.readyz)
		r.GET("/metrics", s.metricsHandler())
	})
}

func (s *Server) readyz(c *gin.Context) {
	if s.ctx.Err() != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "shutting down"})
		return
	}
	if err := s.st.View(func(tx *store.Tx) error { _, err := tx.Folder(s.st.RootFolder()); return err }); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "store unavailable"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}
