#!/bin/sh
# Issue 15: canvasd and Centrifugo under the same load generator, one after
# the other in one run, at 5,000 and 10,000 websocket viewers of one
# canvas/channel at 10 edits (publishes) a second.
#
# Centrifugo v6.9.1 is built through the Go module proxy (about 2 minutes)
# into a scratch folder outside the repository ($CENTRIFUGO_DIR, default
# /tmp/canvasd-centrifugo), once; never in `make test`.
#
#   scripts/bench-centrifugo.sh            # 5000 and 10000 viewers, 2 rounds
#   ROUNDS=3 SIZES="5000" scripts/bench-centrifugo.sh
set -eu
cd "$(dirname "$0")/.."
DIR=${CENTRIFUGO_DIR:-/tmp/canvasd-centrifugo}
ROUNDS=${ROUNDS:-2}
SIZES=${SIZES:-"5000 10000"}
DURATION=${DURATION:-20s}
SETTLE=${SETTLE:-10s}
mkdir -p "$DIR"
if [ ! -x "$DIR/centrifugo" ]; then
	echo "building Centrifugo v6.9.1 into $DIR (Go module proxy, about 2 minutes)"
	GOBIN="$DIR" GOFLAGS=-mod=mod go install github.com/centrifugal/centrifugo/v6@v6.9.1
fi
"$DIR/centrifugo" version || true
go build -o bin/canvasd ./cmd/canvasd
go build -o "$DIR/canvasbench" ./cmd/canvasbench
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); GOGC ${GOGC:-unset (canvasd serve sets 300; Centrifugo runs with Go's default 100)}"
for r in $(seq 1 "$ROUNDS"); do
	for n in $SIZES; do
		echo "=== round $r, $n viewers, load $(cut -d' ' -f1-3 /proc/loadavg)"
		"$DIR/canvasbench" -mode fanout -bin bin/canvasd -viewers "$n" -rate 10 -duration "$DURATION" -settle "$SETTLE" | grep RESULT || true
		"$DIR/canvasbench" -mode centrifugo -centrifugo-bin "$DIR/centrifugo" -viewers "$n" -rate 10 -duration "$DURATION" -settle "$SETTLE" | grep RESULT || true
	done
done
