package dedupe

import (
	"strings"
	"testing"
)

// base is the running text every cleaning case wraps in furniture.
const base = "The port authority said on Monday that cargo volumes rose for a third straight month as new cranes came into service."

func TestCleanFurniture(t *testing.T) {
	want := NewDoc("", "<p>"+base+"</p>").Text()
	if want == "" {
		t.Fatal("base text cleaned to nothing")
	}
	tests := []struct{ name, html string }{
		{"ians dateline", "<p>NEW DELHI, Aug 16 (IANS) — " + base + "</p>"},
		{"xinhua dateline", "<p>BEIJING, March 3 (Xinhua) -- " + base + "</p>"},
		{"reuters dateline", "<p>(Reuters) - " + base + "</p>"},
		{"city and credit", "<p>LONDON (Reuters) - " + base + "</p>"},
		{"city country ap", "<p>SANTIAGO, Chile (AP) — " + base + "</p>"},
		{"city colon", "<p>KUCHING: " + base + "</p>"},
		{"tass slashes", "<p>PETROPAVLOVSK-KAMCHATSKY, August 4. /TASS/. " + base + "</p>"},
		{"pti plain", "<p>Colombo, Jun 10 " + base + "</p>"},
		{"ani bracketed", "<p>Male [Maldives], March 19 (ANI): " + base + "</p>"},
		{"efe", "<p>Bogotá, Jan 9 (EFE).- " + base + "</p>"},
		{"feed credit aside", "<p>(MENAFN- Example News Agency) SEOUL, April 1 -- " + base + "</p>"},
		{"long credit aside", "<p>KUNMING, (Example / Point News - Xinhua - 14th Apr, 2026 ) :" + base + "</p>"},
		{"inline credit", "<p>" + strings.TrimSuffix(base, ".") + " (Xinhua).</p>"},
		{"reports credit", "<p>" + strings.TrimSuffix(base, ".") + ", reports Asian Lite News.</p>"},
		{"also read", "<p>" + base + "</p><p>ALSO READ: Monsoon session to begin next week</p>"},
		{"previous next", "<p>Previous Story</p><p>" + base + "</p><p>Next Story</p>"},
		{"byline", "<p><strong>By Staff Reporter</strong></p><p>" + base + "</p>"},
		{"agency line", "<p>" + base + "</p><p>IANS</p><p>-- BERNAMA</p><p>kdj/cl/rox</p>"},
		{"share prompt", "<p>" + base + "</p><p>Share this: Facebook | Twitter | WhatsApp</p>"},
		{"follow", "<p>" + base + "</p><p>Follow us on Twitter and Instagram for the latest updates</p>"},
		{"copyright", "<p>" + base + "</p><p>© 2026 Example Media Ltd. All rights reserved.</p>"},
		{"with inputs", "<p>" + base + "</p><p>(With inputs from agencies)</p>"},
		{"reporting by", "<p>" + base + "</p><p>(Reporting by Jane Roe; Editing by John Doe)</p>"},
		{"credit line", "<p>" + base + "</p><p>Reporting by Jane Roe; Additional reporting by Ann Lee; Editing by John Doe</p>"},
		{"newsletter plug", "<p>" + base + "</p><p><a href=\"/newsletter\">Sign up for our daily newsletter</a> for more stories like this.</p>"},
		{"disclaimer", "<p>" + base + "</p><p>Disclaimer: This story is auto-generated from a syndicated feed.</p>"},
		{"not edited", "<p>" + base + "</p><p><em>(This story has not been edited by Example staff and is auto-generated from a syndicated feed.)</em></p>"},
		{"ellipsis reports credit", "<p>" + strings.TrimSuffix(base, ".") + "…reports Asian Lite News</p>"},
		{"header label", "<p><strong>Amman - Example Daily</strong></p><p>" + base + "</p>"},
		{"follow label", "<p>" + base + "</p><p><strong>Follow Example on</strong> <a href=\"#\">Telegram</a></p>"},
		{"continue reading", "<p>" + base + "</p><p>Continue reading on Example News</p>"},
		{"trailing dash credit", "<p>" + base + " -- IANS</p>"},
		{"plain text lines", base + "\n\n(This story has not been edited by Example staff and is auto-generated from a syndicated feed.)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NewDoc("", tt.html).Text(); got != want {
				t.Errorf("Text() = %q\nwant     %q", got, want)
			}
		})
	}
}

// TestCleanKeepsCopy checks that ordinary paragraphs survive: a long
// paragraph mentioning a rights phrase, and sentences opening with an
// acronym or a name.
func TestCleanKeepsCopy(t *testing.T) {
	tests := []struct{ html, want string }{
		{"<p>NASA said the probe would reach orbit in June after a long journey.</p>",
			"nasa said the probe would reach orbit in june after a long journey"},
		{"<p>By the end of the year the company expects to hire 300 more engineers.</p>",
			"by the end of the year the company expects to hire 300 more engineers"},
		{"<p>(Reuters) - Ports reopened on Tuesday, officials said (after a storm).</p>",
			"ports reopened on tuesday officials said after a storm"},
		{"<p>Share prices rose by 3 percent after the announcement on Friday.</p>",
			"share prices rose by 3 percent after the announcement on friday"},
	}
	for _, tt := range tests {
		if got := NewDoc("", tt.html).Text(); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.html, got, tt.want)
		}
	}
}

func TestNormaliseWords(t *testing.T) {
	tests := []struct{ a, b string }{
		{"the defence programme", "the defense program"},
		{"the organisation was organised", "the organization was organized"},
		{"privatisation plans", "privatization plans"},
		{"labour and labourers", "labor and laborers"},
		{"a favourite colour", "a favorite color"},
		{"the centre", "the center"},
		{"honourable members", "honorable members"},
		{"she travelled and cancelled", "she traveled and canceled"},
		{"analysed the data", "analyzed the data"},
		{"ten kilometres", "10 kilometers"},
		{"three people", "3 people"},
		{"twenty-five people", "25 people"},
		{"the sixth month", "the 6th month"},
		{"four hundred fighters", "400 fighters"},
		{"5.75 per cent", "5.75 percent"},
		{"9.6%", "9.6 percent"},
		{"at 8am, 21.6km", "at 8 am, 21.6 km"},
		{"Dh452.75", "Dh 452.75"},
		{"14,870 ships", "14870 ships"},
		{"China’s “big” plan", "China's \"big\" plan"},
		{"ＡＢＣ ﬁnal", "ABC final"},
	}
	for _, tt := range tests {
		a, b := NewDoc("", tt.a).Text(), NewDoc("", tt.b).Text()
		if a != b {
			t.Errorf("%q reads %q, %q reads %q; want equal", tt.a, a, tt.b, b)
		}
	}
	// Distinct words stay distinct.
	for _, pair := range [][2]string{{"filled", "filed"}, {"four", "for"}, {"our", "or"}, {"21.6", "216"}} {
		if a, b := words(pair[0]), words(pair[1]); a == b {
			t.Errorf("%q and %q both read %q", pair[0], pair[1], a)
		}
	}
}

func words(s string) string {
	var out []string
	for _, t := range tokens(s) {
		out = append(out, t.w)
	}
	return strings.Join(out, " ")
}

// FuzzCountWords holds countWords to strings.Fields, which it replaced.
func FuzzCountWords(f *testing.F) {
	for _, s := range []string{"", " a  b\tc\n", base, "x\u00a0y\u2003z \xff \u0085w", strings.Repeat("w ", 60)} {
		f.Add(s, 5)
		f.Add(s, maxFurnitureWords+1)
	}
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if limit < 1 || limit > 100 {
			return
		}
		want := min(len(strings.Fields(s)), limit)
		if got := countWords(s, limit); got != want {
			t.Fatalf("countWords(%q, %d) = %d, want %d", s, limit, got, want)
		}
	})
}
