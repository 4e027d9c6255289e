"""``python -m styrhjul``: the same as the ``styrhjul`` console script."""

import sys

from styrhjul.cli.main import main

sys.exit(main())
