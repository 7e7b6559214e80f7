#!/usr/bin/env bash
# Measure wiredesk against a feed farm or any list of feed URLs: cold,
# unchanged and incremental `wiredesk poll` cycles, plus gofeed's
# parse-only rate on the same documents.
#
#   scripts/bench-farm.sh http://127.0.0.1:8400 2000     # a feedfarm and N
#   scripts/bench-farm.sh --urls feeds.txt               # one URL per line
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(mktemp -d)/wiredesk
CGO_ENABLED=0 go build -o "$bin" ./cmd/wiredesk
if [ "${1:-}" = "--urls" ]; then
	exec go run ./scripts/benchfarm -bin "$bin" -urls "$2" "${@:3}"
fi
exec go run ./scripts/benchfarm -bin "$bin" -farm "${1:?farm URL}" -n "${2:-200}" "${@:3}"
