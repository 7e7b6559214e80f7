package dedupe

import (
	"strings"
	"testing"
)

// story is an invented agency text, one paragraph a line.
var story = []string{
	"Authorities in the coastal province of Veloria on Tuesday ordered the evacuation of 12,400 residents from low-lying villages as Tropical Storm Anselm approached with winds of up to 95 km per hour, the provincial disaster agency said.",
	"The storm was expected to make landfall late on Wednesday near the fishing town of Porto Calma, bringing up to 300 millimetres of rain over two days, forecasters at the national weather service said.",
	"Governor Ilse Marrant said 46 schools had been turned into shelters and that three army units were on standby with boats and generators. \"We would rather move people twice than rescue them once,\" she told reporters.",
	"Ferry services to the outlying islands were suspended and the port of Veloria closed to all shipping until further notice, the harbour authority said in a statement.",
	"Last year a weaker storm flooded more than 2,000 homes in the province and cut power to the provincial capital for four days.",
}

func paras(ps ...string) string { return "<p>" + strings.Join(ps, "</p><p>") + "</p>" }

func TestDecide(t *testing.T) {
	full := paras(story...)
	tests := []struct {
		name   string
		a, b   string
		ta, tb string // titles
		same   bool
		reason string // a part of Decision.Reason
	}{
		{"identical", full, full, "", "", true, "shares 100%"},
		{"republished with furniture", full,
			"<p>By Staff Reporter</p><p>VELORIA, June 3 (Xinhua) -- " + strings.Join(story, "</p><p>") +
				"</p><p>ALSO READ: Markets close higher on export data</p><p>Share this: Facebook | X | WhatsApp</p>",
			"Storm Anselm: 12,400 evacuated", "Veloria evacuates villages ahead of storm", true, "shares"},
		{"truncated lede", full, paras(story[0]), "", "", true, "shares 100%"},
		{"trimmed, US spelling, number in words", full,
			paras(story[0], strings.ReplaceAll(story[1], "millimetres", "millimeters"),
				strings.Replace(story[2], "three army units", "3 army units", 1), strings.ReplaceAll(story[3], "harbour", "harbor")),
			"", "", true, "shares"},
		{"one sentence reworded", full,
			paras(append([]string{"Officials in Veloria province on Tuesday told 12,400 people in low-lying villages to leave their homes ahead of Tropical Storm Anselm, which was packing winds of up to 95 km per hour."}, story[1:]...)...),
			"", "", true, "shares"},
		{"bulletin with other figures", full,
			paras(strings.NewReplacer("12,400", "8,150", "95 km", "110 km", "300", "180", "46", "31").Replace(story[0]),
				strings.NewReplacer("300", "180").Replace(story[1]),
				strings.NewReplacer("46", "31", "three", "two").Replace(story[2]), story[3], story[4]),
			"", "", false, "numbers differ"},
		{"bulletin for other places", paras(story[3]),
			paras(strings.NewReplacer("Veloria", "Castrel", "outlying islands", "northern islands").Replace(story[3])),
			"", "", false, "names differ"},
		{"template prose, other places",
			paras("Officials in Veloria said the decision could affect as many as twelve villages along the Veloria coast, and critics in Veloria have long argued that the program favors large operators over small farms.",
				"Residents of Veloria described grey skies and heavy traffic as emergency crews worked through the night near Castrel and the harbour."),
			paras("Officials in Castrel said the decision could affect as many as twelve villages along the Castrel coast, and critics in Castrel have long argued that the program favors large operators over small farms.",
				"Residents of Castrel described grey skies and heavy traffic as emergency crews worked through the night near Veloria and the harbour."),
			"", "", false, "in fragments"},
		{"independent report sharing a quote",
			full,
			paras("A tropical storm bearing down on Veloria has forced thousands from their homes, with the governor warning that the coming two days would be dangerous for anyone living near the sea.",
				"\"We would rather move people twice than rescue them once,\" Governor Ilse Marrant said, adding that emergency crews were ready to move in once the storm passed.",
				"Forecasters expect Anselm to weaken after it crosses the coast, but warned of landslides in the hills above Porto Calma, where the soil is already soaked after weeks of rain."),
			"Storm Anselm nears Veloria", "Storm Anselm nears Veloria", false, "shares only"},
		{"title alone", "", "", "Storm Anselm nears Veloria", "Storm Anselm nears Veloria", false, "too short"},
		{"same title, unrelated short texts",
			"<p>Markets were closed for a public holiday on Monday.</p>",
			"<p>Schools reopened across the region on Monday after the holiday.</p>",
			"Holiday", "Holiday", false, "too short"},
		{"very short brief carried verbatim",
			"<p>Parliament on Thursday approved a bill raising the minimum wage for farm workers by nine percent from January.</p>",
			"<p>Parliament on Thursday approved a bill raising the minimum wage for farm workers by 9 per cent from January.</p>",
			"Farm wage bill passes", "Parliament raises farm wage", true, "shares 100%"},
		{"very short text inside a longer one, other headline",
			"<p>Ferry services to the outlying islands were suspended and the port closed to all shipping.</p>",
			paras("Ferry services to the outlying islands were suspended and the port closed to all shipping, the harbour authority said on Friday as a strike by dock workers entered its third day.",
				"Union leaders said talks with the port operator had stalled over pay and that the walkout would continue until a new offer was made."),
			"Ferries halted", "Dock strike enters third day", false, "short text"},
		{"very short partial match", "<p>Ferry services to the outlying islands were suspended on Monday, the company said.</p>",
			paras(story[3]), "", "", false, "short text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := NewDoc(tt.ta, tt.a), NewDoc(tt.tb, tt.b)
			d := Decide(a, b, DefaultThreshold)
			if d.Same != tt.same || !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("Decide = %v %q, want %v and a reason with %q (%+v)", d.Same, d.Reason, tt.same, tt.reason, d)
			}
			// Symmetric.
			r := Decide(b, a, DefaultThreshold)
			if r.Same != d.Same || r.Reason != d.Reason || r.Containment != d.Containment ||
				r.WordsA != d.WordsB || r.WordsB != d.WordsA {
				t.Errorf("Decide(b, a) = %+v, Decide(a, b) = %+v", r, d)
			}
		})
	}
}

func TestDecideThreshold(t *testing.T) {
	// A copy with its second half replaced shares about half its text:
	// the threshold decides.
	a := NewDoc("", paras(story...))
	b := NewDoc("", paras(story[0], story[1],
		"Rescue teams from neighbouring provinces were flown in overnight and field kitchens set up in the sports halls of Porto Calma and Veloria city.",
		"Officials urged residents to stock drinking water and charge their telephones before the storm arrived."))
	d := Decide(a, b, 0.3)
	if !d.Same || d.Containment < 0.3 || d.Containment > 0.7 {
		t.Fatalf("at 0.3: %+v", d)
	}
	if d := Decide(a, b, 0.9); d.Same || !strings.Contains(d.Reason, "< 0.90") {
		t.Errorf("at 0.9: %+v", d)
	}
}
