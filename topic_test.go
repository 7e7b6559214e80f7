package wiredesk

import "testing"

func TestTopicAdmits(t *testing.T) {
	tests := []struct {
		name             string
		include, exclude []string
		title, text      string
		want             bool
	}{
		{"no terms", nil, nil, "anything", "", true},
		{"include in title", []string{"defence"}, nil, "Defence budget rises", "", true},
		{"include in text", []string{"defence"}, nil, "Budget", "the DEFENCE ministry said", true},
		{"include missing", []string{"defence"}, nil, "Budget", "finance ministry", false},
		{"word boundary", []string{"war"}, nil, "Software update", "", false},
		{"phrase", []string{"prime minister"}, nil, "The Prime-Minister spoke", "", true},
		{"exclude wins", []string{"india"}, []string{"cricket"}, "India win cricket series", "", false},
		{"exclude only", nil, []string{"cricket"}, "Election results", "", true},
		{"empty term never matches", []string{" "}, nil, "x", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topic := Topic{Include: tt.include, Exclude: tt.exclude}
			if got := topic.Admits(tt.title, tt.text); got != tt.want {
				t.Errorf("Admits(%q, %q) = %v, want %v", tt.title, tt.text, got, tt.want)
			}
		})
	}
}

func TestTopicSourceNames(t *testing.T) {
	all := []Source{
		{Name: "xinhua", Tags: []string{"world", "china"}},
		{Name: "pti", Tags: []string{"india"}},
		{Name: "ap"},
	}
	topic := Topic{Tags: []string{"world"}, Sources: []string{"pti"}}
	got := topic.SourceNames(all)
	want := []string{"xinhua", "pti"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("SourceNames = %v, want %v", got, want)
	}
}
