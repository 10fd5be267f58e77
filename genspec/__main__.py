"""`python -m genspec`: the `genspec` command."""

import sys

from genspec.cli import main

sys.exit(main())
