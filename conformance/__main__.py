"""`python -m conformance ...` is `ovm-conformance ...`."""

import sys

from conformance.cli import main

sys.exit(main())
