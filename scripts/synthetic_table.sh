#!/usr/bin/env bash
# The README's synthetic figures: every model on the built-in corpus with the quick models and
# the data-scaling runs (about 3 minutes on a 2-core CPU). Writes OUT/results.md, results.json and the PNGs.
# Usage: scripts/synthetic_table.sh [OUT]   (default results/synthetic-standard)
set -euo pipefail
lmcourse compare --corpus synthetic --budget standard --out "${1:-results/synthetic-standard}"
