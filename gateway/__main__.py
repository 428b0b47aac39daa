"""`python -m gateway` runs the `doorstep` command."""

import sys

from .cli import main

sys.exit(main())
