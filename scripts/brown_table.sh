#!/usr/bin/env bash
# The course's headline table on brown: the brown-30min presets (LSTM and Transformer 30 minutes each, the RNN 10)
# and the data-scaling runs, about 110 minutes on a 2-core CPU; run it with nothing else heavy on the machine.
# Needs NLTK's brown (NLTK_DATA, or `lmcourse data fetch brown`). Interrupted? Run it again with --resume.
# Usage: scripts/brown_table.sh [OUT] [--resume]   (default results/brown-full)
set -euo pipefail
lmcourse compare --corpus brown --budget full --out "${1:-results/brown-full}" "${@:2}"
