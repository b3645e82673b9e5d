package store

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Backup writes an online, consistent copy of the store to w as a tar
// archive: canvasd.db (bbolt's Tx.WriteTo in one read transaction) and every
// blob that snapshot references. Blob collection is paused until the blob
// files are open, so none of them can vanish under the backup.
func (s *Store) Backup(w io.Writer) error {
	tmp, err := os.CreateTemp(filepath.Join(s.dir, "blobs", "tmp"), "backup-*.db")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	type blobFile struct {
		hash string
		r    BlobReader
	}
	var files []blobFile
	defer func() {
		for _, f := range files {
			f.r.Close()
		}
	}()
	s.gcMu.RLock()
	err = s.db.View(func(tx *bolt.Tx) error {
		if _, err := tx.WriteTo(tmp); err != nil {
			return err
		}
		t := &Tx{btx: tx, s: s}
		for _, h := range t.ReferencedBlobs() {
			f, err := s.blobs.Open(context.Background(), h)
			if err != nil {
				return fmt.Errorf("blob %s: %w", h, err)
			}
			files = append(files, blobFile{h, f})
		}
		return nil
	})
	s.gcMu.RUnlock()
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	tw := tar.NewWriter(w)
	add := func(name string, f BlobReader) error {
		st, err := f.Stat()
		if err != nil {
			return err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: st.Size(), ModTime: st.ModTime()}); err != nil {
			return err
		}
		_, err = io.CopyN(tw, f, st.Size())
		return err
	}
	if err := add("canvasd.db", tmp); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	for _, f := range files {
		h := f.hash
		if err := add("blobs/"+h[:2]+"/"+h, f.r); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
	}
	return tw.Close()
}

// Restore unpacks a Backup archive into dir, which must not hold a store yet.
func Restore(r io.Reader, dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "canvasd.db")); err == nil {
		return errors.New("restore: " + dir + " already holds a store")
	}
	tr := tar.NewReader(r)
	sawDB := false
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		name := filepath.Clean(hdr.Name)
		if name != "canvasd.db" && !(strings.HasPrefix(name, "blobs/") && strings.Count(name, "/") == 2) || strings.Contains(name, "..") {
			return fmt.Errorf("restore: unexpected entry %q", hdr.Name)
		}
		dst := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		_, err = io.Copy(f, tr)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		sawDB = sawDB || name == "canvasd.db"
	}
	if !sawDB {
		return errors.New("restore: archive has no canvasd.db")
	}
	return nil
}
