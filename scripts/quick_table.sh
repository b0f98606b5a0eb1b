#!/usr/bin/env bash
# The README's first command's table: every model on the built-in corpus, budget quick (about 2 minutes on a
# 2-core CPU). Usage: scripts/quick_table.sh [OUT]   (default results/synthetic)
set -euo pipefail
lmcourse compare --corpus synthetic --budget quick --out "${1:-results/synthetic}"
