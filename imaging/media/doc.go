// Package media reads what the Canvus PDF and video widgets show about
// their files, without decoding more than that:
//   - PDFs: the page count, the first page's size, and a first-page
//     thumbnail, through Debian's poppler-utils (pdfinfo, pdftoppm) run as
//     child processes under a deadline, an address-space and CPU limit
//     (prlimit(1), util-linux) and an output cap, so a hostile PDF costs at
//     most those bounds. PDFTools.Check reports a missing binary with the
//     apt-get command that installs it.
//   - Videos: duration and frame size from the container alone: the
//     moov/mvhd/tkhd boxes of MP4 and QuickTime files, the Info and Tracks
//     elements of WebM and Matroska (EBML). No frame is decoded. The
//     parsers read through an io.ReaderAt, skip media data by offset, and
//     stop after a bounded number of boxes or elements.
//
// It does not own storage, HTTP or widgets: callers pass a file path or an
// io.ReaderAt and get numbers and images back.
package media
