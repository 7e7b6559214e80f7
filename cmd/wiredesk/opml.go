package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/config"
	"github.com/wiredesk/wiredesk/opml"
)

const opmlUsage = `usage:
  wiredesk opml import [--config FILE] [--tag TAG] [--dry-run] OPML_FILE
  wiredesk opml export [--config FILE] [--out FILE]`

func (m *Main) runOPML(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(m.Stderr, opmlUsage)
		return &usageError{"opml: import or export?"}
	}
	switch args[0] {
	case "import":
		return m.opmlImport(args[1:])
	case "export":
		return m.opmlExport(args[1:])
	}
	fmt.Fprintln(m.Stderr, opmlUsage)
	return &usageError{fmt.Sprintf("opml: unknown subcommand %q", args[0])}
}

// tagList is a repeatable, comma-separated flag.
type tagList []string

func (t *tagList) String() string { return strings.Join(*t, ",") }
func (t *tagList) Set(v string) error {
	for p := range strings.SplitSeq(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*t = append(*t, p)
		}
	}
	return nil
}

// opmlImport appends one [[source]] block per new feed to the config file
// as text, so every byte already there (comments, layout, order) stays as
// the user wrote it. The result is validated before anything is written,
// and written by rename, so a failure leaves the old file whole.
func (m *Main) opmlImport(args []string) error {
	var path string
	var tags tagList
	var dryRun bool
	fs := m.newFlagSet("opml import", &path)
	fs.Var(&tags, "tag", "add `TAG` to every imported source (repeatable, or comma-separated)")
	fs.BoolVar(&dryRun, "dry-run", false, "print what would be appended; change nothing")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return &usageError{"opml import: want one OPML file (\"-\" for standard input)"}
	}
	file := fs.Arg(0)
	for _, t := range tags {
		// Folder names that make no tag are reported and passed over;
		// a tag asked for by name must not be.
		if slug(t) == "" {
			return &usageError{fmt.Sprintf("opml import: --tag %q makes no tag: tags are ASCII letters and digits, accents dropped, other characters hyphens", t)}
		}
	}
	old, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	// Decoded, not validated: a config with topics and no sources yet is
	// what a new user imports into. The file with the import appended is
	// validated in full before it is written.
	cfg, err := config.Decode(path, bytes.NewReader(old))
	if err != nil {
		fmt.Fprintf(m.Stderr, "wiredesk: invalid config:\n%v\n", err)
		return &silentError{code: 1}
	}
	// What was wrong before the import is reported as such, not blamed
	// on the import, and not let through when the import adds nothing.
	_, invalidBefore := config.Parse(path, bytes.NewReader(old))
	doc, err := readOPML(file)
	if err != nil {
		return err
	}
	plan := planImport(cfg.Sources, doc, tags)
	text := plan.text(file, time.Now())
	if len(plan.added) == 0 && invalidBefore != nil {
		plan.report(m.Stderr, dryRun)
		fmt.Fprintf(m.Stderr, "wiredesk: nothing to import, and the config does not load:\n%v\n", invalidBefore)
		return &silentError{code: 1}
	}
	if len(plan.added) > 0 {
		// The dry run checks the file exactly as the import would write
		// it, so it never promises what the import then refuses.
		next := old
		if len(next) > 0 && next[len(next)-1] != '\n' {
			next = append(next, '\n')
		}
		next = append(next, text...)
		if _, err := config.Parse(path+" (after the import)", strings.NewReader(string(next))); err != nil {
			if invalidBefore != nil {
				fmt.Fprintf(m.Stderr, "wiredesk: opml import not written: %s does not load, before the import as after it; fix it first:\n%v\n",
					path, invalidBefore)
				return &silentError{code: 1}
			}
			// The lines config reports are in a file that does not
			// exist; say so, and where the import would have been.
			first := bytes.Count(next[:len(next)-len(text)], []byte("\n")) + 1
			fmt.Fprintf(m.Stderr, "wiredesk: opml import not written: %s is unchanged, because with the import appended it would not load.\n"+
				"Line numbers are in the file as it would have been; the import would be its lines %d-%d:\n%v\n",
				path, first, first+strings.Count(text, "\n")-1, err)
			return &silentError{code: 1}
		}
		if !dryRun {
			if err := writeFileAtomic(path, next); err != nil {
				return err
			}
		}
	}
	out := m.Stdout
	if dryRun {
		// Standard output is the text alone, ready to paste; the
		// summary goes to standard error.
		fmt.Fprint(m.Stdout, text)
		out = m.Stderr
	}
	plan.report(out, dryRun)
	return nil
}

func readOPML(file string) (*opml.Doc, error) {
	var r io.Reader = os.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("open opml: %w", err)
		}
		defer f.Close()
		r = f
	}
	doc, err := opml.Parse(r)
	if err != nil {
		if file == "-" {
			file = "standard input"
		}
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return doc, nil
}

type importedSource struct {
	title, name, url string
	tags             []string
}

type importPlan struct {
	added   []*importedSource
	skipped []string // "URL: reason"
}

// planImport decides, for each feed of the list in order, whether it
// becomes a new source, and under which name and tags.
func planImport(existing []wiredesk.Source, doc *opml.Doc, extra []string) importPlan {
	var p importPlan
	for _, o := range doc.Skipped {
		what := cmp.Or(o.Title, o.URL, "(untitled outline)")
		p.skipped = append(p.skipped, fmt.Sprintf("%s: %s", what, o.Reason))
	}
	tagless := map[string]bool{}          // folder names already reported
	known := map[string]wiredesk.Source{} // by normalised URL
	names := map[string]bool{}            // lower-case names taken
	for _, s := range existing {
		known[normalURL(s.FeedURL)] = s
		names[strings.ToLower(s.Name)] = true
	}
	fresh := map[string]*importedSource{}
	for _, f := range doc.Feeds {
		for _, t := range f.Tags {
			if slug(t) == "" && !tagless[t] {
				tagless[t] = true
				p.skipped = append(p.skipped, fmt.Sprintf("folder %q as a tag: no ASCII letter or digit in it", t))
			}
		}
		// The test config applies to source URLs: a URL it rejects
		// would refuse the whole import, so it is skipped here instead.
		u, err := url.Parse(f.XMLURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
			p.skipped = append(p.skipped, fmt.Sprintf("%s: not an http(s) feed URL", f.XMLURL))
			continue
		}
		key := normalURL(f.XMLURL)
		if s, ok := known[key]; ok {
			msg := fmt.Sprintf("%s: already configured as source %q", f.XMLURL, s.Name)
			if s.FeedURL != f.XMLURL {
				msg += fmt.Sprintf(" (%s)", s.FeedURL)
			}
			p.skipped = append(p.skipped, msg)
			continue
		}
		tags := append(slugTags(f.Tags), slugTags(extra)...)
		if s, ok := fresh[key]; ok {
			// Listed under several folders: one source with every tag.
			s.tags = mergeTags(s.tags, tags)
			p.skipped = append(p.skipped, fmt.Sprintf("%s: listed again; tags merged into %q", f.XMLURL, s.name))
			continue
		}
		s := &importedSource{title: oneLine(f.Title), url: f.XMLURL, tags: mergeTags(nil, tags)}
		s.name = uniqueName(sourceName(f.Title, u.Hostname()), names)
		fresh[key] = s
		p.added = append(p.added, s)
	}
	return p
}

// text is the TOML appended to the config file.
func (p importPlan) text(file string, now time.Time) string {
	if len(p.added) == 0 {
		return ""
	}
	var b strings.Builder
	if file == "-" {
		file = "standard input"
	}
	fmt.Fprintf(&b, "\n# Imported from %s by `wiredesk opml import` on %s.\n",
		oneLine(filepath.Base(file)), now.UTC().Format("2006-01-02"))
	for _, s := range p.added {
		b.WriteString("\n")
		if s.title != "" && s.title != s.name {
			fmt.Fprintf(&b, "# %s\n", s.title)
		}
		fmt.Fprintf(&b, "[[source]]\nname = %s\nurl = %s\n", tomlString(s.name), tomlString(s.url))
		if len(s.tags) > 0 {
			q := make([]string, len(s.tags))
			for i, t := range s.tags {
				q[i] = tomlString(t)
			}
			fmt.Fprintf(&b, "tags = [%s]\n", strings.Join(q, ", "))
		}
	}
	return b.String()
}

func (p importPlan) report(w io.Writer, dryRun bool) {
	verb := "added"
	if dryRun {
		verb = "would add"
	}
	fmt.Fprintf(w, "%s %d source(s)", verb, len(p.added))
	if len(p.added) > 0 {
		names := make([]string, len(p.added))
		for i, s := range p.added {
			names[i] = s.name
		}
		fmt.Fprintf(w, ": %s", strings.Join(names, ", "))
	}
	fmt.Fprintln(w)
	for _, s := range p.skipped {
		fmt.Fprintf(w, "skipped: %s\n", oneLine(s))
	}
}

// normalURL is the form in which two feed URLs are the same feed, so an
// import does not add again, under another name, a feed already
// configured. http and https are one feed (readers upgrade or downgrade
// the scheme between exports); host case, a default port (RFC 9110 §4.2),
// the fragment (never sent to the server) and a trailing slash of the path
// do not matter. The query does: it often selects the feed.
func normalURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return raw
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if port := u.Port(); port != "" && !(scheme == "http" && port == "80") && !(scheme == "https" && port == "443") {
		host += ":" + port
	}
	u.Host, u.Fragment, u.RawFragment = host, "", ""
	if scheme == "http" || scheme == "https" {
		u.Scheme = "" // "//host/path?query"
	}
	u.Path, u.RawPath = strings.TrimRight(u.Path, "/"), strings.TrimRight(u.RawPath, "/")
	return u.String()
}

// slug turns a title or folder name into a name or tag: ASCII letters
// and digits, accents dropped ("é" becomes "e"), every other run of
// characters one hyphen. It starts with a letter or digit, or is empty.
func slug(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range stripMarks(strings.ToLower(title)) {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	s := b.String()
	if len(s) > 40 {
		s = strings.TrimRight(s[:40], "-")
	}
	return s
}

// sourceName derives a new source's name from its title or, when the
// title has no usable letters, from its host; the result always passes
// config's rule for names (letters, digits, '.', '_', '-', starting with a
// letter or digit), so a title-less feed cannot make the import refused.
func sourceName(title, host string) string {
	if s := slug(title); s != "" {
		return s
	}
	if s := hostName(host); s != "" {
		return s
	}
	return "feed"
}

// hostName spells a host as a source name. Accents are dropped as in
// titles ("bücher.example" -> "bucher.example"); a host with letters that
// have no such ASCII form is spelt in its IDNA ASCII form (RFC 5891,
// "xn--…"), which is the same host, rather than lose those letters.
func hostName(host string) string {
	h := strings.ToLower(host)
	if ascii := stripMarks(h); isASCII(ascii) {
		h = ascii
	} else if a, err := idna.Lookup.ToASCII(h); err == nil {
		h = a
	}
	var b strings.Builder
	for _, r := range h {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '_' || r == '-') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-') // ':' of an IPv6 literal, anything left
		}
	}
	return strings.Trim(b.String(), "._-")
}

// stripMarks drops combining accents after canonical decomposition.
func stripMarks(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// uniqueName makes name unique, ignoring case, against taken (the rule
// config applies), and records it.
func uniqueName(name string, taken map[string]bool) string {
	if name == "" {
		name = "feed"
	}
	candidate := name
	for i := 2; taken[strings.ToLower(candidate)]; i++ {
		candidate = fmt.Sprintf("%s-%d", name, i)
	}
	taken[strings.ToLower(candidate)] = true
	return candidate
}

// slugTags turns folder names into tags as topics select them:
// lower-case words joined by hyphens ("Tech News" -> "tech-news").
func slugTags(in []string) []string {
	var out []string
	for _, t := range in {
		if s := slug(t); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func mergeTags(have, more []string) []string {
	for _, t := range more {
		if !slices.Contains(have, t) {
			have = append(have, t)
		}
	}
	return have
}

// oneLine makes s fit on one comment or report line: control characters
// become spaces, then every run of white space one space. TOML forbids
// control characters other than tab in comments (U+0000-U+0008,
// U+000A-U+001F, U+007F, TOML 1.0 "Comment"), and a terminal would obey
// the C1 ones in a report.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// tomlString quotes s as a TOML basic string: whatever a title or URL
// holds, it cannot end the string or the line early.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// writeFileAtomic replaces path with data by writing a temporary file in
// the same directory, syncing it and renaming it over path: a crash
// leaves the old file or the new one, never half of either. The file
// keeps its permissions. A symlink is followed and the file it points to
// replaced, in that file's directory (a rename cannot cross file
// systems), so the link stays a link.
func writeFileAtomic(path string, data []byte) error {
	path, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write config: %w", err)
	}
	if err := tmp.Chmod(fi.Mode().Perm()); err != nil {
		tmp.Close()
		return fmt.Errorf("write config: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// opmlExport writes the configured sources as OPML 2.0, one folder per
// tag (a source with several tags is in each), untagged ones at the top.
func (m *Main) opmlExport(args []string) error {
	var path, outPath string
	fs := m.newFlagSet("opml export", &path)
	fs.StringVar(&outPath, "out", "", "write to `FILE` instead of standard output")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := m.loadConfig(path)
	if err != nil {
		return err
	}
	byTag := map[string][]opml.Feed{}
	var loose []opml.Feed
	for _, s := range cfg.Sources {
		f := opml.Feed{Title: s.Name, XMLURL: s.FeedURL}
		if len(s.Tags) == 0 {
			loose = append(loose, f)
		}
		for _, t := range s.Tags {
			byTag[t] = append(byTag[t], f)
		}
	}
	tags := make([]string, 0, len(byTag))
	for t := range byTag {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	groups := []opml.Group{{Feeds: loose}}
	for _, t := range tags {
		groups = append(groups, opml.Group{Name: t, Feeds: byTag[t]})
	}
	w := m.Stdout
	if outPath != "" {
		f, err := os.Create(outPath)
		if err != nil {
			return fmt.Errorf("opml export: %w", err)
		}
		defer f.Close()
		w = f
	}
	if err := opml.Write(w, "wiredesk sources", time.Now(), groups); err != nil {
		return err
	}
	if f, ok := w.(*os.File); ok && outPath != "" {
		if err := f.Close(); err != nil {
			return fmt.Errorf("opml export: %w", err)
		}
	}
	return nil
}
