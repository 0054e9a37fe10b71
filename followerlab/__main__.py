"""``python -m followerlab batch ...``: the same as the ``followerlab`` console script."""

import sys

from .cli import main

sys.exit(main())
