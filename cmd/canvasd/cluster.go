package main

// Cluster-mode flags (issue #14): --broker and --blobs. Only what can be
// used correctly today is accepted; see README "Running a cluster (in
// progress)".

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/canvasd/canvasd/hub"
	"github.com/canvasd/canvasd/hub/natsbroker"
	"github.com/canvasd/canvasd/server"
	"github.com/canvasd/canvasd/store"
	"github.com/canvasd/canvasd/store/s3blobs"
	"github.com/rs/zerolog"
)

// errNoSharedStore explains why a multi-node broker is refused for now.
var errNoSharedStore = errors.New("cluster mode needs a store that every node shares (--store postgres://…, issue #14), " +
	"which this build does not have yet: with the bbolt store each node keeps its own event log, so nodes would number " +
	"the same canvas's events differently and repair gaps from the wrong log. Use --broker memory (the default) until then")

// checkClusterFlags validates --broker and --blobs and refuses combinations
// that would run but be wrong.
func checkClusterFlags(c *serveConfig) error {
	switch {
	case c.broker == "memory":
	case natsbroker.Scheme(c.broker):
		if _, err := url.Parse(c.broker); err != nil {
			return fmt.Errorf("--broker: %w", err)
		}
		return fmt.Errorf("--broker %s: %w", c.broker, errNoSharedStore)
	default:
		return fmt.Errorf("--broker must be memory or nats://host:port, got %q", c.broker)
	}
	if c.headCheck < 0 {
		return fmt.Errorf("--head-check must not be negative, got %s", c.headCheck)
	}
	switch {
	case c.blobs == "":
	case strings.HasPrefix(c.blobs, "file://"):
		if strings.TrimPrefix(c.blobs, "file://") == "" {
			return errors.New("--blobs file:// needs a directory, e.g. file:///var/lib/canvasd/blobs")
		}
	case strings.HasPrefix(c.blobs, "s3://"):
		u, err := url.Parse(c.blobs)
		if err != nil || u.Host == "" {
			return fmt.Errorf("--blobs must look like s3://bucket?region=…, got %q", c.blobs)
		}
	default:
		return fmt.Errorf("--blobs must be file://DIR or s3://bucket?…, got %q", c.blobs)
	}
	return nil
}

// openBlobs returns the BlobStore of --blobs (nil: the store's default,
// files under --data/blobs) and a function that closes it after the store.
func openBlobs(ctx context.Context, spec string) (store.BlobStore, func() error, error) {
	switch {
	case spec == "":
		return nil, func() error { return nil }, nil
	case strings.HasPrefix(spec, "file://"):
		return store.NewFileBlobs(strings.TrimPrefix(spec, "file://")), func() error { return nil }, nil
	case strings.HasPrefix(spec, "s3://"):
		b, err := s3blobs.Open(ctx, spec)
		if err != nil {
			return nil, nil, fmt.Errorf("--blobs: %w", err)
		}
		return b, b.Close, nil
	}
	return nil, nil, fmt.Errorf("--blobs: unsupported %q", spec)
}

// brokerOptions returns the hub options of --broker and a function that
// closes the broker after the hub. A NATS broker turns the head check on
// and asks for one at once when NATS reports lost messages; its connection
// errors are logged (publish and head-check errors by
// server.ClusterHubMetrics). h is filled in once the hub exists.
func brokerOptions(c *serveConfig, log zerolog.Logger, h **hub.Hub) ([]server.HubOption, func() error, error) {
	if c.broker == "memory" {
		return nil, func() error { return nil }, nil
	}
	b, err := natsbroker.Connect(natsbroker.Options{
		URL:     c.broker,
		OnError: func(err error) { log.Warn().Err(err).Msg("broker") },
		OnLost: func() {
			if hb := *h; hb != nil {
				go func() {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					hb.CheckHeads(ctx)
				}()
			}
		},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("--broker: %w", err)
	}
	opt := func(o *hub.Options) {
		o.Broker = b
		o.HeadCheck = c.headCheck
	}
	return []server.HubOption{opt}, b.Close, nil
}
