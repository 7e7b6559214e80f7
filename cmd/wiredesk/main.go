// Command wiredesk is the wiredesk daemon and its command-line tools.
//
// It owns the wiring only: it loads the config, opens the store, builds the
// poller and the publishing server, and shuts them down in order (stop
// intake, drain in-flight polls, close the store last).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"
)

func main() {
	// Docker and systemd stop with SIGTERM; a terminal with SIGINT.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// A soft memory limit keeps the garbage collector from letting the heap
	// grow to twice the live data while several large feeds are parsed at
	// once (measured: 237 MB peak RSS without it, 206 MB with it, for
	// eight 10 MB feeds). GOMEMLIMIT, when set, wins.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
		go followLiveHeap(ctx, 10*time.Second)
	}
	// Collecting at 50% heap growth instead of 100% took the peak of a
	// 2,000-feed cold cycle from 125 MB to 105 MB for the same CPU time
	// (scripts/bench-farm.sh, GOGC=50 against the default). GOGC, when
	// set, wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	m := NewMain()
	// Libraries that log through the default logger (the store's
	// migrations) follow the command's level and format.
	slog.SetDefault(m.Logger)
	err := m.Run(ctx, os.Args[1:])
	os.Exit(m.exitCode(err))
}

// Main runs one wiredesk command. Its fields are the process's outside
// world, so tests can run commands in-process.
type Main struct {
	Stdout io.Writer
	Stderr io.Writer
	Logger *slog.Logger
	// Getenv reads the environment (WIREDESK_CONFIG and the overrides);
	// nil means os.Getenv.
	Getenv func(string) string

	// logLevel is the level of NewMain's Logger: warnings for one-shot
	// commands, which print their own summary; info for serve.
	logLevel slog.LevelVar
}

// NewMain returns a Main writing to the process's standard streams.
func NewMain() *Main {
	m := &Main{Stdout: os.Stdout, Stderr: os.Stderr}
	m.logLevel.Set(slog.LevelWarn)
	m.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: &m.logLevel}))
	return m
}

// usageError marks a command line that cannot be run as written (exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// silentError carries an exit status for a failure already reported to
// the user (for example every problem of an invalid config).
type silentError struct{ code int }

func (e *silentError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

const usage = `wiredesk polls news feeds, folds copies of the same wire story into one,
and republishes curated topic feeds.

Usage:
  wiredesk <command> [--config FILE] [arguments]

Commands:
  serve     run the daemon: poll on schedule and serve the topic feeds
  poll      poll now (all sources, or --source NAME) and print a summary;
            sources gone (410) are skipped unless named
  check     validate the config
  sources   list each source's polling state: last poll, status, failures,
            next run, last error (--json for every field)
  items     list stored items, newest first
  render    write every topic feed as static files (--out DIR)
  explain   show why two stored items are, or are not, one story (URL_A URL_B)
  opml      import an OPML subscription list into the config (opml import FILE)
            or write the configured sources as OPML (opml export)
  health    exit 0 if the running daemon answers its health check, else 1
  version   print the version

Every command takes --config FILE (default $WIREDESK_CONFIG, else wiredesk.toml).
WIREDESK_LISTEN and WIREDESK_DB override [server] listen and [storage] path.
Run "wiredesk <command> -h" for a command's flags.
`

// Run runs the command named by args[0].
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return &usageError{"no command given"}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return m.runServe(ctx, rest)
	case "poll":
		return m.runPoll(ctx, rest)
	case "check":
		return m.runCheck(ctx, rest)
	case "sources":
		return m.runSources(ctx, rest)
	case "items":
		return m.runItems(ctx, rest)
	case "render":
		return m.runRender(ctx, rest)
	case "explain":
		return m.runExplain(ctx, rest)
	case "opml":
		return m.runOPML(ctx, rest)
	case "health":
		return m.runHealth(ctx, rest)
	case "version", "--version", "-version":
		return m.runVersion(rest)
	case "help", "-h", "--help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	default:
		fmt.Fprint(m.Stderr, usage)
		return &usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
}

// exitCode reports err to the user and turns it into a process status:
// 0 success, 1 failure, 2 a command line that cannot be run.
func (m *Main) exitCode(err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var silent *silentError
	if errors.As(err, &silent) {
		return silent.code
	}
	fmt.Fprintln(m.Stderr, "wiredesk:", err)
	var usage *usageError
	if errors.As(err, &usage) {
		return 2
	}
	return 1
}

// newFlagSet returns a flag set for cmd with the --config flag every
// command shares.
func (m *Main) newFlagSet(cmd string, configPath *string) *flag.FlagSet {
	fs := flag.NewFlagSet("wiredesk "+cmd, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	def := "wiredesk.toml"
	if env := m.getenv(envConfig); env != "" {
		def = env
	}
	fs.StringVar(configPath, "config", def, "config `FILE`")
	return fs
}

// parseFlags parses args and rejects stray positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))}
	}
	return nil
}

// parseArgs parses args, leaving positional arguments to the command;
// a bad flag is a usage error.
func parseArgs(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err.Error()}
	}
	return nil
}
