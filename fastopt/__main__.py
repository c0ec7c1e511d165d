"""``python -m fastopt``: the side-by-side demo (see :mod:`fastopt._demo`)."""
import sys

from ._demo import main

sys.exit(main())
