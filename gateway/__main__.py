"""`python -m doorstep.gateway` runs the `doorstep` command."""

import sys

from doorstep.gateway.cli.main import main

sys.exit(main())
