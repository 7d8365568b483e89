#!/usr/bin/env bash
# Cold start to a ready /readyz on a fresh SQLite database (keys generated, migrations run).
# Usage: scripts/cold-start.sh [runs]   (builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
cargo build --release --quiet
bin="$PWD/target/release/certverify"
port=18431
for i in $(seq 1 "$runs"); do
  dir=$(mktemp -d)
  start=$(date +%s%N)
  (cd "$dir" && exec "$bin" serve --listen "127.0.0.1:$port" 2>/dev/null) &
  pid=$!
  until curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do sleep 0.005; done
  end=$(date +%s%N)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
  echo "run $i: $(( (end - start) / 1000000 )) ms from exec to ready /readyz"
done
