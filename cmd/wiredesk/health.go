package main

import "context"

// runHealth is implemented by the observability work; placeholder so main compiles.
func (m *Main) runHealth(ctx context.Context, args []string) error {
	return &usageError{"health: not implemented yet"}
}
