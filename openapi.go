// Package canvasd holds what belongs to the repository as a whole: the
// OpenAPI contract, embedded so the server can serve it at /openapi.yaml.
package canvasd

import _ "embed"

// OpenAPI is openapi.yaml, the contract of every route.
//
//go:embed openapi.yaml
var OpenAPI []byte
