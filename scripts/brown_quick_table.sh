#!/usr/bin/env bash
# Every model on brown with the quick budget's small neural models (minutes, not hours): the N-gram rows are the
# same as the full budget's. Usage: scripts/brown_quick_table.sh [OUT]   (default results/brown-quick)
set -euo pipefail
lmcourse compare --corpus brown --budget quick --out "${1:-results/brown-quick}"
