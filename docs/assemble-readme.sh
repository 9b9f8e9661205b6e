#!/usr/bin/env bash
# README.md is assembled from the sections in docs/readme-parts/ and docs/readme/ (one per area), so each
# area's owner edits its own file. Run after editing any of them: bash docs/assemble-readme.sh
set -euo pipefail
cd "$(dirname "$0")/.."
parts=(
  docs/readme-parts/00-head.md
  docs/readme/demo.md
  docs/readme-parts/10-config.md
  docs/readme/client.md
  docs/readme/ingest.md
  docs/readme/models.md
  docs/readme/reconcile.md
  docs/readme/reports.md
  docs/readme/scheduler.md
  docs/readme-parts/analyst.md
  docs/readme/simulator.md
  docs/readme/bench.md
  docs/readme-parts/99-development.md
)
{
  for p in "${parts[@]}"; do
    cat "$p"
    printf '\n'
  done
} > README.md
echo "README.md: $(wc -l < README.md) lines from ${#parts[@]} parts"
