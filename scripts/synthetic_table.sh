#!/usr/bin/env bash
# The README's synthetic tables and figures: every model on the built-in corpus with the 5-minute presets and
# the data-scaling runs (about 10 minutes on a 2-core CPU). Writes OUT/results.md, results.json and the PNGs.
# Usage: scripts/synthetic_table.sh [OUT]   (default results/synthetic-standard)
set -euo pipefail
lmcourse compare --corpus synthetic --budget standard --out "${1:-results/synthetic-standard}"
