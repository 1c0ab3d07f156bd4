"""`python -m workbench.cli ...`: the `workbench` command, for launchers that take a
module (``torchrun --nproc_per_node 2 -m workbench.cli train PROJECT``)."""

import sys

from workbench.cli import main

sys.exit(main())
