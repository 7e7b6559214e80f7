package store

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/wiredesk/wiredesk"
)

// TestQueryPlans checks that the queries run per item, per fetch and per
// topic request find their rows through indexes: EXPLAIN QUERY PLAN of
// each, on the migrated schema, has no full scan of a table, so their
// cost does not grow with the store (BenchmarkGrowth measures that). A
// topic of a few sources seeks each source's newest stories in its index,
// in index order (no sort but of the page); other topics walk the stories'
// publication index newest first and stop at their limit. That walk is
// the one scan allowed, and only there.
func TestQueryPlans(t *testing.T) {
	db, _ := openTest(t)
	seek, seekArgs := seekQuery([]string{"a", "b"}, 20)
	many := make([]string, seekBudget/100+1)
	for i := range many {
		many[i] = fmt.Sprint("s", i)
	}
	for _, f := range []wiredesk.StoryFilter{{Sources: many, Limit: 100}, {Sources: []string{"a"}, MinSources: 3, Limit: 50}} {
		if seeks(f) {
			t.Fatalf("%d sources, min_sources %d: seeks; the walk's plans below would be of the wrong query", len(f.Sources), f.MinSources)
		}
	}
	topic, topicArgs := storiesWalkQuery(wiredesk.StoryFilter{Sources: many, Limit: 100})
	widely, widelyArgs := storiesWalkQuery(wiredesk.StoryFilter{Sources: []string{"a"}, MinSources: 3, Limit: 50})
	tests := []struct {
		name  string
		query string
		args  []any
		scans []string // full scans allowed: the ordered walk of a topic
		want  string   // a step the plan must have
	}{
		{"find", findQuery, []any{1, `["g"]`}, nil, "SEARCH items USING INDEX sqlite_autoindex_items_1 (source_id=? AND guid=?)"},
		{"update", updateQuery, make([]any, 13), nil, ""},
		{"seen", seenQuery, []any{"t", 1, 1}, nil, ""},
		{"story", storyQuery, []any{1}, nil, ""},
		{"stories by URL", urlStoriesQuery, []any{`["u"]`, "t", 1}, []string{"SCAN k VIRTUAL TABLE INDEX 1:"},
			"SEARCH items USING INDEX items_canonical_url (canonical_url=? AND first_seen>?)"},
		{"stories by hash", hashStoriesQuery, []any{`["h"]`, "t", 0}, []string{"SCAN k VIRTUAL TABLE INDEX 1:"},
			"SEARCH items USING INDEX items_content_hash (content_hash=? AND first_seen>?)"},
		{"by hash", byHashQuery, []any{"h", "t", 1}, nil, ""},
		{"candidates", candidatesQuery, []any{"[1,2]"}, nil, "SEARCH d USING INTEGER PRIMARY KEY (rowid=?)"},
		{"sweep docs", sweepDocsQuery, []any{"t"}, nil, "SEARCH item_docs USING INTEGER PRIMARY KEY (rowid<?)"},
		{"mark seen", markSeenQuery, []any{"t", 1, `["a","b"]`}, []string{"SCAN json_each VIRTUAL TABLE INDEX 1:"},
			"SEARCH items USING COVERING INDEX sqlite_autoindex_items_1 (source_id=? AND guid=?)"},
		{"known digests", knownDigestsQuery, []any{"s", `["a","b"]`}, []string{"SCAN json_each VIRTUAL TABLE INDEX 1:"},
			"SEARCH i USING INDEX sqlite_autoindex_items_1 (source_id=? AND guid=?)"},
		{"source id", sourceIDQuery, []any{"s"}, nil, ""},
		{"source state", sourceStateQuery, []any{"s"}, nil, ""},
		{"save state", stateQuery, make([]any, 16), nil, ""},
		{"fingerprints", fingerprintsQuery, []any{"t"}, nil, ""},
		{"new stories' primaries", setPrimariesQuery, []any{"[[1,2]]"}, []string{"SCAN p VIRTUAL TABLE INDEX 1:"}, "SEARCH stories USING INTEGER PRIMARY KEY (rowid=?)"},
		// A story's primary copy is chosen in the story index alone, not
		// in the copies' rows, where published comes after the text.
		{"primary copies", refreshPrimariesQuery(`SELECT value FROM json_each(?)`), []any{"[1]"}, nil,
			"SEARCH i USING COVERING INDEX items_story (story_id=?)"},
		{"topic of few sources", seek, seekArgs, nil, "SEARCH story_sources USING PRIMARY KEY (source_id=?)"},
		{"stories by id", storiesByIDQuery, []any{"[1,2]"}, nil, "SEARCH stories USING INTEGER PRIMARY KEY (rowid=?)"},
		// A story's sources are checked in the story index alone, not in
		// the copies' rows.
		{"topic", topic, topicArgs, []string{"SCAN w USING COVERING INDEX stories_published"},
			"SEARCH i USING COVERING INDEX items_story (story_id=?)"},
		{"widely carried", widely, widelyArgs, []string{"SCAN w USING COVERING INDEX stories_published"},
			"SEARCH i USING COVERING INDEX items_story (story_id=?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := db.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+tt.query, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			for _, d := range plan {
				if isTableScan(d) && !slices.Contains(tt.scans, d) {
					t.Errorf("full scan %q in the plan:\n%s", d, strings.Join(plan, "\n"))
				}
			}
			if tt.want != "" && !slices.Contains(plan, tt.want) {
				t.Errorf("plan lacks %q:\n%s", tt.want, strings.Join(plan, "\n"))
			}
			t.Logf("%s", strings.Join(plan, "; "))
		})
	}
}

// isTableScan reports a plan step that reads a whole table or index
// rather than searching it; scanning a json_each list of ids or names,
// or a subquery's result, is not one.
func isTableScan(detail string) bool {
	if !strings.HasPrefix(detail, "SCAN ") {
		return false
	}
	return !strings.Contains(detail, "json_each") && !strings.Contains(detail, "CONSTANT ROW") &&
		!strings.HasPrefix(detail, "SCAN (subquery")
}

func TestIsTableScan(t *testing.T) {
	for detail, want := range map[string]bool{
		"SCAN items":                                               true,
		"SCAN i USING INDEX items_story":                           true,
		"SCAN st USING COVERING INDEX stories_published":           true,
		"SEARCH items USING INDEX items_first_seen (first_seen>?)": false,
		"SEARCH i USING INTEGER PRIMARY KEY (rowid=?)":             false,
		"SCAN json_each VIRTUAL TABLE INDEX 1:":                    false,
		"SCAN CONSTANT ROW":                                        false,
		"USE TEMP B-TREE FOR ORDER BY":                             false,
	} {
		if got := isTableScan(detail); got != want {
			t.Errorf("isTableScan(%q) = %v, want %v", detail, got, want)
		}
	}
}
