package publish

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// WriteFiles renders every topic in every format and the OPML list into
// dir, creating it if needed: DIR/{topic}.rss, .atom, .json and
// DIR/opml.xml. The documents are the ones Handler serves except that
// their self links and the OPML's xmlUrl point at BaseURL/{topic}.{ext},
// where a web server publishing dir will serve them. Each file is replaced
// atomically, so a web server never serves half a file.
func (s *Server) WriteFiles(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write files: %w", err)
	}
	l := s.layout(true)
	cfg := s.config()
	for _, t := range cfg.topics {
		// A topic name becomes a file name; it must not climb out of dir.
		if !filepath.IsLocal(t.Name) || strings.ContainsAny(t.Name, `/\`) {
			return fmt.Errorf("write files: topic name %q is not a plain file name", t.Name)
		}
		for _, f := range Formats() {
			body, _, err := s.renderWith(ctx, cfg, t.Name, f, l)
			if err != nil {
				return err
			}
			if err := writeAtomic(filepath.Join(dir, t.Name+f.Ext()), body); err != nil {
				return err
			}
		}
	}
	body, err := s.renderOPML(l)
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, "opml.xml"), body)
}

// writeAtomic writes body to a temporary file beside path and renames it
// into place; rename within a directory replaces the old file atomically.
func writeAtomic(path string, body []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(body); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	// CreateTemp makes the file private; a web server must be able to read it.
	if err = os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename %s: %w", path, err)
	}
	return nil
}
