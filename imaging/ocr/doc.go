// Package ocr runs the Tesseract command-line program on an image and returns
// the recognised words with their pixel boxes.
//
// It owns the subprocess contract only: PNG in on stdin, TSV out on stdout,
// one OCR thread (OMP_THREAD_LIMIT=1) so that concurrent requests do not
// oversubscribe the CPU. It does not decide layout (tables, charts, text
// blocks); the digitize and chart packages do that with the word boxes.
//
// When the tesseract binary is not on PATH, Available reports false and
// Recognize returns ErrUnavailable; callers degrade to structure-only results.
// An Engine value is a caller's OCR setting (Engine{Off: true} reads as if
// tesseract were missing); it is passed in, never switched process-wide. The
// package functions are the zero Engine's.
package ocr
