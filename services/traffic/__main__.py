"""`python -m services.traffic`."""

from __future__ import annotations

import sys

from services.traffic.cli import main

if __name__ == "__main__":
    sys.exit(main())
