// Package pdfgen writes minimal, valid PDF 1.4 files for tests: the
// objects in order (object i+1 is objs[i]), then a cross-reference table
// with computed offsets and the trailer, so poppler reads the file without
// repairing it.
package pdfgen

import (
	"bytes"
	"fmt"
)

// Write returns a PDF whose objects are objs; object 1 must be the catalog.
func Write(objs []string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}
