"""``python -m apps.cli ...``: the ``mmagent`` command."""

import sys

from apps.cli import main

if __name__ == "__main__":
    sys.exit(main())
