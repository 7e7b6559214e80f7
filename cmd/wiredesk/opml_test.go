package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/wiredesk/wiredesk/config"
)

const opmlBaseConfig = `# My sources. This comment, and the layout, must survive an import.
[poll]
schedule = "@every 30m"   # trailing comment

[[source]]
name = "verge"
url = "HTTPS://www.TheVerge.com:443/rss/index.xml#top"
tags = ["tech"]

[[topic]]
name = "tech"
tags = ["tech"]`

func writeOPMLConfig(t *testing.T, text string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wiredesk.toml")
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestOPMLImport imports a Feedly export into a config that already has
// one of its feeds (spelt differently) and checks the file: the old bytes
// are an exact prefix, the result loads, folders became tags, the feed
// listed twice is one source with both tags, and a second import adds
// nothing.
func TestOPMLImport(t *testing.T) {
	path := writeOPMLConfig(t, opmlBaseConfig, 0o640)
	code, out, errOut := run(t, "opml", "import", "--config", path, "--tag", "imported", "testdata/opml/feedly.opml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(after, []byte(opmlBaseConfig+"\n")) {
		t.Fatalf("existing text changed:\n%s", after)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode: got %v, want 0640", fi.Mode().Perm())
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("imported config does not load: %v\n%s", err, after)
	}
	want := map[string][]string{
		"verge":        {"tech"},
		"ars-technica": {"tech-news", "imported"},
		"al-jazeera-breaking-news-world-news-and": {"world", "imported"},
	}
	got := map[string][]string{}
	for _, s := range cfg.Sources {
		got[s.Name] = s.Tags
	}
	for name, tags := range want {
		if !slices.Equal(got[name], tags) {
			t.Errorf("source %s: tags %v, want %v (all: %v)", name, got[name], tags, got)
		}
	}
	if len(cfg.Sources) != 3 {
		t.Errorf("sources: got %v, want 3", got)
	}
	for _, w := range []string{"added 2 source(s)", `already configured as source "verge"`} {
		if !strings.Contains(out, w) {
			t.Errorf("report lacks %q:\n%s", w, out)
		}
	}
	if !strings.Contains(string(after), "# Imported from feedly.opml") {
		t.Errorf("no provenance comment:\n%s", after)
	}

	// Again: nothing to add, the file untouched.
	code, out, _ = run(t, "opml", "import", "--config", path, "testdata/opml/feedly.opml")
	again, _ := os.ReadFile(path)
	if code != 0 || !bytes.Equal(again, after) || !strings.Contains(out, "added 0 source(s)") {
		t.Errorf("second import: exit %d, changed %v, report %q", code, !bytes.Equal(again, after), out)
	}
}

// TestOPMLImportDryRunAndRefusal checks that --dry-run prints the text and
// writes nothing, that hostile titles cannot break the TOML, and that an
// invalid config is refused and left unchanged.
func TestOPMLImportDryRunAndRefusal(t *testing.T) {
	path := writeOPMLConfig(t, opmlBaseConfig, 0o644)
	list := filepath.Join(t.TempDir(), "list.opml")
	os.WriteFile(list, []byte(`<?xml version="1.0"?><opml version="2.0"><body>
<outline text="Evil &quot;]\n[storage]&#10;path=&quot;x" type="rss" xmlUrl="https://evil.example/feed?a=&quot;b&quot;"/>
</body></opml>`), 0o644)
	code, out, errOut := run(t, "opml", "import", "--config", path, "--dry-run", list)
	if code != 0 || !strings.Contains(out, "[[source]]") || !strings.Contains(errOut, "would add 1 source(s)") {
		t.Fatalf("dry run: exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	if b, _ := os.ReadFile(path); string(b) != opmlBaseConfig {
		t.Errorf("dry run changed the file")
	}
	if _, err := config.Parse("x", strings.NewReader(opmlBaseConfig+"\n"+out)); err != nil {
		t.Errorf("the hostile title broke the TOML: %v\n%s", err, out)
	}

	// A config that is already invalid is refused with its problems and
	// left alone: the import never writes on top of a broken file.
	bad := writeOPMLConfig(t, opmlBaseConfig+"\n[dedupe]\nwindow = \"72h\"\n[dedupe.extra]\n", 0o644)
	before, _ := os.ReadFile(bad)
	code, _, _ = run(t, "opml", "import", "--config", bad, list)
	if after, _ := os.ReadFile(bad); code == 0 || !bytes.Equal(before, after) {
		t.Errorf("invalid config: exit %d, changed %v; want refusal and no change", code, !bytes.Equal(before, after))
	}
}

// TestOPMLExportRoundTrip exports the example config and imports the
// result into a config with no sources: the same URLs and tags come back.
func TestOPMLExportRoundTrip(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sources.opml")
	if code, _, errOut := run(t, "opml", "export", "--config", "../../config.example.toml", "--out", out); code != 0 {
		t.Fatalf("export: %s", errOut)
	}
	empty := writeOPMLConfig(t, "# nothing yet\n", 0o644)
	if code, _, errOut := run(t, "opml", "import", "--config", empty, out); code != 0 {
		t.Fatalf("import: %s", errOut)
	}
	orig, err := config.Load("../../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	back, err := config.Load(empty)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Sources) != len(orig.Sources) {
		t.Fatalf("round trip: %d sources, want %d", len(back.Sources), len(orig.Sources))
	}
	for _, s := range orig.Sources {
		b, ok := back.Source(s.Name)
		if !ok || b.FeedURL != s.FeedURL {
			t.Errorf("source %s: got %+v", s.Name, b)
			continue
		}
		x, y := slices.Clone(s.Tags), slices.Clone(b.Tags)
		slices.Sort(x)
		slices.Sort(y)
		if !slices.Equal(x, y) {
			t.Errorf("source %s: tags %v, want %v", s.Name, y, x)
		}
	}
}

// TestOPMLSourceName checks the names derived for new sources against the
// rule config applies to source names, above all when the title gives
// nothing and the host is not ASCII.
func TestOPMLSourceName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]*$`) // config/validate.go
	tests := []struct {
		title, host, want string
	}{
		{"Ars Technica", "feeds.arstechnica.com", "ars-technica"},
		{"Dépêches", "afp.example.fr", "depeches"},
		{"", "jp.example.jp", "jp.example.jp"},
		{"日本語ニュース", "jp.example.jp", "jp.example.jp"},
		{"", "bücher.example", "bucher.example"},
		{"", "日本.example.jp", "xn--wgv71a.example.jp"},
		{"", "[::1]", "1"},
		{"", "_dmarc.example", "dmarc.example"},
		{"", "", "feed"},
	}
	for _, tc := range tests {
		got := sourceName(tc.title, tc.host)
		if got != tc.want || !valid.MatchString(got) {
			t.Errorf("sourceName(%q, %q) = %q, want %q (valid: %v)", tc.title, tc.host, got, tc.want, valid.MatchString(got))
		}
	}
}

// TestOPMLImportDryRunAgrees runs --dry-run and the real import on copies
// of the same config: they must succeed or fail together, and what the
// dry run prints must be exactly what the import appends. A dry run that
// promises what the import then refuses is worse than none.
func TestOPMLImportDryRunAgrees(t *testing.T) {
	tests := []struct {
		name, config, list string
		code               int
	}{
		{
			name:   "title-less feed on a non-ASCII host",
			config: "# sources\n",
			list:   `<opml version="2.0"><body><outline text="" type="rss" xmlUrl="https://bücher.example/feed"/></body></opml>`,
		},
		{
			// [[source]] cannot extend an inline array: config refuses the
			// result, and so must the dry run.
			name:   "sources as an inline array",
			config: "source = [{ name = \"a\", url = \"https://a.example/feed\" }]\n",
			list:   `<opml version="2.0"><body><outline text="b" type="rss" xmlUrl="https://b.example/feed"/></body></opml>`,
			code:   1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			list := filepath.Join(t.TempDir(), "list.opml")
			if err := os.WriteFile(list, []byte(tc.list), 0o644); err != nil {
				t.Fatal(err)
			}
			dry := writeOPMLConfig(t, tc.config, 0o644)
			dryCode, text, dryErr := run(t, "opml", "import", "--config", dry, "--dry-run", list)
			real := writeOPMLConfig(t, tc.config, 0o644)
			code, _, errOut := run(t, "opml", "import", "--config", real, list)
			if dryCode != tc.code || code != tc.code {
				t.Fatalf("exit: dry run %d, import %d, want %d\ndry run: %s\nimport: %s", dryCode, code, tc.code, dryErr, errOut)
			}
			if b, _ := os.ReadFile(dry); string(b) != tc.config {
				t.Errorf("the dry run changed the file:\n%s", b)
			}
			after, _ := os.ReadFile(real)
			want := tc.config
			if code == 0 {
				want += text
			}
			if string(after) != want {
				t.Errorf("import wrote\n%s\nwant\n%s", after, want)
			}
		})
	}
}

// TestOPMLImportControlCharacters imports titles and a file name holding
// control characters, which TOML forbids in comments (DEL) or a terminal
// would obey (C1 CSI): the comments are written without them and the
// config loads.
func TestOPMLImportControlCharacters(t *testing.T) {
	path := writeOPMLConfig(t, "# sources\n", 0o644)
	list := filepath.Join(t.TempDir(), "list\x7f.opml")
	if err := os.WriteFile(list, []byte(`<opml version="2.0"><body>
<outline text="Del&#127;title" type="rss" xmlUrl="https://del.example.com/feed"/>
<outline text="Csi&#155;31mtitle" type="rss" xmlUrl="https://csi.example.com/feed"/>
</body></opml>`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run(t, "opml", "import", "--config", path, list)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	after, _ := os.ReadFile(path)
	if _, err := config.Load(path); err != nil {
		t.Fatalf("does not load: %v\n%s", err, after)
	}
	for _, line := range strings.Split(string(after), "\n") {
		if strings.HasPrefix(line, "#") && strings.ContainsFunc(line, unicode.IsControl) {
			t.Errorf("control character in comment %q", line)
		}
	}
	for _, want := range []string{"# Del title\n", "# Csi 31mtitle\n", "# Imported from list .opml"} {
		if !strings.Contains(string(after), want) {
			t.Errorf("file lacks %q:\n%s", want, after)
		}
	}
}

// TestOPMLImportRefusalMessage checks that an import config would reject
// says which file, that nothing was written, and that its line numbers are
// those of the file as it would have been.
func TestOPMLImportRefusalMessage(t *testing.T) {
	// [[source]] cannot extend an inline array of sources.
	text := "# one\n# two\nsource = [{ name = \"a\", url = \"https://a.example/feed\" }]\n"
	path := writeOPMLConfig(t, text, 0o644)
	list := filepath.Join(t.TempDir(), "list.opml")
	os.WriteFile(list, []byte(`<opml><body><outline text="b" xmlUrl="https://b.example/feed"/></body></opml>`), 0o644)
	code, _, errOut := run(t, "opml", "import", "--config", path, list)
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, errOut)
	}
	for _, want := range []string{
		"opml import not written: " + path + " is unchanged",
		"the import would be its lines 4-9",
		path + " (after the import):7:",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("message lacks %q:\n%s", want, errOut)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != text {
		t.Errorf("file changed:\n%s", b)
	}
}

// TestOPMLImportSymlinkedConfig imports through a relative symlink, as
// with a config kept in a dotfiles repository: the link stays a link, the
// file it points to gets the import and keeps its mode, and no temporary
// file is left in either directory.
func TestOPMLImportSymlinkedConfig(t *testing.T) {
	root := t.TempDir()
	realDir, linkDir := filepath.Join(root, "dotfiles"), filepath.Join(root, "etc")
	for _, d := range []string{realDir, linkDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	target := filepath.Join(realDir, "wiredesk.toml")
	if err := os.WriteFile(target, []byte("# mine\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(linkDir, "wiredesk.toml")
	if err := os.Symlink("../dotfiles/wiredesk.toml", link); err != nil {
		t.Fatal(err)
	}
	list := filepath.Join(root, "list.opml")
	os.WriteFile(list, []byte(`<opml><body><outline text="b" xmlUrl="https://b.example/feed"/></body></opml>`), 0o644)
	if code, _, errOut := run(t, "opml", "import", "--config", link, list); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v, %v", fi.Mode(), err)
	}
	after, _ := os.ReadFile(target)
	if !strings.HasPrefix(string(after), "# mine\n") || !strings.Contains(string(after), `url = "https://b.example/feed"`) {
		t.Errorf("target:\n%s", after)
	}
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode: got %v, want 0600", fi.Mode().Perm())
	}
	for _, d := range []string{realDir, linkDir} {
		if es, _ := os.ReadDir(d); len(es) != 1 {
			t.Errorf("%s holds %d entries, want 1", d, len(es))
		}
	}
}

// TestOPMLFeedKey lists spellings of one feed URL that must be taken for
// the same feed, and near misses that must not.
func TestOPMLFeedKey(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"https://x.example/rss.xml/", "https://x.example/rss.xml", true},
		{"http://x.example/feed", "https://x.example/feed", true},
		{"HTTPS://X.Example:443/feed", "https://x.example/feed", true},
		{"http://x.example:80/feed", "https://x.example/feed", true},
		{"https://x.example/feed#top", "https://x.example/feed", true},
		{"https://x.example", "https://x.example/", true},
		{" https://x.example/feed ", "https://x.example/feed", true},
		{"https://x.example/feed?a=1", "https://x.example/feed?a=2", false},
		{"https://x.example/feed?a=1", "https://x.example/feed", false},
		{"https://x.example:8443/feed", "https://x.example/feed", false},
		{"https://x.example/Feed", "https://x.example/feed", false},
		{"https://x.example/feed", "https://y.example/feed", false},
	}
	for _, tc := range tests {
		if got := normalURL(tc.a) == normalURL(tc.b); got != tc.same {
			t.Errorf("%q vs %q: same %v, want %v (keys %q, %q)", tc.a, tc.b, got, tc.same, normalURL(tc.a), normalURL(tc.b))
		}
	}
}

// TestOPMLImportDuplicates imports a list that spells configured feeds
// differently and lists one new feed twice: the configured ones are
// skipped naming the source they match, the new one becomes one source
// with the tags of both folders.
func TestOPMLImportDuplicates(t *testing.T) {
	path := writeOPMLConfig(t, `[[source]]
name = "bbc"
url = "https://feeds.example/news/rss.xml"

[[source]]
name = "wire"
url = "http://wire.example/feed"
`, 0o644)
	list := filepath.Join(t.TempDir(), "list.opml")
	os.WriteFile(list, []byte(`<opml version="2.0"><body>
<outline text="World">
  <outline text="BBC" xmlUrl="https://feeds.example/news/rss.xml/"/>
  <outline text="Wire" xmlUrl="https://WIRE.example:443/feed#latest"/>
  <outline text="New" xmlUrl="https://new.example/feed"/>
</outline>
<outline text="Asia">
  <outline text="New again" xmlUrl="http://new.example/feed/"/>
</outline>
</body></opml>`), 0o644)
	code, out, errOut := run(t, "opml", "import", "--config", path, list)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"added 1 source(s): new\n",
		`https://feeds.example/news/rss.xml/: already configured as source "bbc" (https://feeds.example/news/rss.xml)`,
		`https://WIRE.example:443/feed#latest: already configured as source "wire" (http://wire.example/feed)`,
		`http://new.example/feed/: listed again; tags merged into "new"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := cfg.Source("new"); len(cfg.Sources) != 3 || !slices.Equal(s.Tags, []string{"world", "asia"}) {
		t.Errorf("sources %+v, want 3 with new tagged [world asia]", cfg.Sources)
	}
}

// TestOPMLImportReportsSkipped checks that nothing in the list is dropped
// without a word: outlines that are not feeds, feeds that are not http(s),
// and folder names that make no tag are each reported; a --tag that makes
// no tag is an error naming the flag.
func TestOPMLImportReportsSkipped(t *testing.T) {
	path := writeOPMLConfig(t, "# sources\n", 0o644)
	list := filepath.Join(t.TempDir(), "list.opml")
	os.WriteFile(list, []byte(`<opml version="2.0"><body>
<outline text="a link" type="link" url="https://example.org/"/>
<outline text="Empty"/>
<outline text="FTP" xmlUrl="ftp://ftp.example/feed.xml"/>
<outline text="No host" xmlUrl="http://:80/feed"/>
<outline text="日本"><outline text="NHK" xmlUrl="https://nhk.example/rss"/></outline>
<outline text="Nested feed" xmlUrl="https://parent.example/feed">
  <outline text="Child" xmlUrl="https://child.example/feed"/>
</outline>
<outline text="url only" type="rss" url="https://urlonly.example/feed"/>
</body></opml>`), 0o644)
	code, out, errOut := run(t, "opml", "import", "--config", path, list)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"added 4 source(s): nhk, nested-feed, child, url-only\n",
		"skipped: a link: no feed URL (type \"link\")\n",
		"skipped: Empty: no feed URL\n",
		"skipped: ftp://ftp.example/feed.xml: not an http(s) feed URL\n",
		"skipped: http://:80/feed: not an http(s) feed URL\n",
		"skipped: folder \"日本\" as a tag: no ASCII letter or digit in it\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}

	for _, tag := range []string{"日本", "ok,日本"} {
		code, _, errOut = run(t, "opml", "import", "--config", path, "--tag", tag, list)
		if code != 2 || !strings.Contains(errOut, `--tag "日本"`) {
			t.Errorf("--tag %s: exit %d, %q; want 2 and an error naming --tag", tag, code, errOut)
		}
	}
}

// TestOPMLImportNotOPML gives the import a JSON file: the error names the
// file and says it is not OPML, and the config is untouched.
func TestOPMLImportNotOPML(t *testing.T) {
	path := writeOPMLConfig(t, "# sources\n", 0o644)
	list := filepath.Join(t.TempDir(), "subscriptions.json")
	os.WriteFile(list, []byte(`{"subscriptions": []}`), 0o644)
	code, _, errOut := run(t, "opml", "import", "--config", path, list)
	if code == 0 || !strings.Contains(errOut, list+": not an OPML document") {
		t.Errorf("exit %d, %q; want an error naming %s as not OPML", code, errOut, list)
	}
	if b, _ := os.ReadFile(path); string(b) != "# sources\n" {
		t.Errorf("config changed:\n%s", b)
	}
}

// TestOPMLImportReaderExports imports each reader's export (the layouts
// of opml/testdata) into a config through the command: every http(s)
// feed becomes one source, the file loads, and a second import adds
// nothing.
func TestOPMLImportReaderExports(t *testing.T) {
	tests := []struct {
		file    string
		sources int // distinct http(s) feed URLs in the file
	}{
		{"miniflux.opml", 3},
		{"freshrss.opml", 3},
		{"feedly.opml", 3}, // The Verge is listed in two folders
		{"netnewswire.opml", 2},
		{"newsboat.opml", 3},
		{"nested.opml", 1}, // the other is ftp:
		{"latin1.opml", 1},
		{"bom.opml", 1},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := writeOPMLConfig(t, "[[source]]\nname = \"seed\"\nurl = \"https://seed.example/feed\"\ntags = [\"imported\"]\n\n"+
				"[[topic]]\nname = \"all\"\ntags = [\"imported\"]\n", 0o644)
			file := filepath.Join("..", "..", "opml", "testdata", tt.file)
			code, out, errOut := run(t, "opml", "import", "--config", path, "--tag", "imported", file)
			if code != 0 {
				t.Fatalf("exit %d:\n%s%s", code, out, errOut)
			}
			cfg, err := config.Load(path)
			if err != nil {
				t.Fatalf("imported config does not load: %v", err)
			}
			if len(cfg.Sources) != 1+tt.sources {
				t.Errorf("%d sources besides the seed, want %d:\n%s", len(cfg.Sources)-1, tt.sources, out)
			}
			for _, s := range cfg.Sources {
				if !slices.Contains(s.Tags, "imported") {
					t.Errorf("source %s lacks the --tag: %v", s.Name, s.Tags)
				}
			}
			before, _ := os.ReadFile(path)
			code, out, _ = run(t, "opml", "import", "--config", path, file)
			after, _ := os.ReadFile(path)
			if code != 0 || !bytes.Equal(before, after) || !strings.Contains(out, "added 0 source(s)") {
				t.Errorf("second import: exit %d, changed %v:\n%s", code, !bytes.Equal(before, after), out)
			}
		})
	}
}

// TestOPMLImportIntoTopicsOnly: a new user's config has topics and no
// sources yet, which does not load on its own (the topic would be
// empty); the import that feeds the topic is let through, one that does
// not is refused and the file left as it was.
func TestOPMLImportIntoTopicsOnly(t *testing.T) {
	const topics = "[[topic]]\nname = \"world\"\ntags = [\"world\"]\n"
	// Its folders are "Uncategorized" and "South Asia": no "world".
	file := filepath.Join("..", "..", "opml", "testdata", "freshrss.opml")
	path := writeOPMLConfig(t, topics, 0o644)
	if code, out, errOut := run(t, "opml", "import", "--config", path, file); code == 0 {
		t.Fatalf("an import leaving the topic empty was written:\n%s%s", out, errOut)
	}
	if b, _ := os.ReadFile(path); string(b) != topics {
		t.Fatalf("refused import changed the file:\n%s", b)
	}
	if code, out, errOut := run(t, "opml", "import", "--config", path, "--tag", "world", file); code != 0 {
		t.Fatalf("exit %d:\n%s%s", code, out, errOut)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("imported config does not load: %v", err)
	}
	if len(cfg.Sources) != 3 {
		t.Errorf("%d sources, want freshrss's 3", len(cfg.Sources))
	}
}

// TestOPMLImportInvalidConfig: a config that was already invalid is
// reported as such (with its own line), not blamed on the import, whether
// the import would add sources or nothing.
func TestOPMLImportInvalidConfig(t *testing.T) {
	const dup = "[[source]]\nname = \"wire\"\nurl = \"https://a.example/feed\"\n\n[[source]]\nname = \"Wire\"\nurl = \"https://b.example/feed\"\n"
	for _, tt := range []struct {
		name, opml, want string
	}{
		{"adds", `<opml version="2.0"><body><outline text="New" xmlUrl="https://new.example/feed"/></body></opml>`,
			"does not load, before the import as after it"},
		{"adds nothing", `<opml version="2.0"><body><outline text="Old" xmlUrl="https://a.example/feed"/></body></opml>`,
			"nothing to import, and the config does not load"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := writeOPMLConfig(t, dup, 0o644)
			file := filepath.Join(t.TempDir(), "in.opml")
			if err := os.WriteFile(file, []byte(tt.opml), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, errOut := run(t, "opml", "import", "--config", path, file)
			if code == 0 || !strings.Contains(errOut, tt.want) || !strings.Contains(errOut, path+":6:1: source[1].name: duplicate name") {
				t.Errorf("exit %d, stderr:\n%s\nwant a failure saying %q and naming the duplicate at %s:6:1", code, errOut, tt.want, path)
			}
			if b, _ := os.ReadFile(path); string(b) != dup {
				t.Errorf("the config changed:\n%s", b)
			}
		})
	}
}
