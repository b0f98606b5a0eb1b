"""``python -m lmcourse`` is the same as the ``lmcourse`` command."""

import sys

from lmcourse.cli import main

sys.exit(main())
