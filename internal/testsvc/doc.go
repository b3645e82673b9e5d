// Package testsvc starts the external services that cluster-mode tests need,
// each throwaway and private to one test: a PostgreSQL server from the
// Debian binaries (initdb and pg_ctl in a temporary directory, on a free
// loopback port), a NATS server from its Go module (in-process), and an S3
// fake behind a real HTTP listener.
//
// No service is assumed to be running, and a missing one is never a skip: a
// test that needs PostgreSQL and cannot find its binaries fails and says
// which apt-get command installs them (.ci/run installs them for CI).
//
// It owns the services' lifetimes (each is stopped and its files removed by
// tb.Cleanup), not the code under test: callers get a URL or DSN and connect
// with the same clients the product uses.
package testsvc
