package main

import "context"

// runOPML is implemented by the OPML work; placeholder so main compiles.
func (m *Main) runOPML(ctx context.Context, args []string) error {
	return &usageError{"opml: not implemented yet"}
}
