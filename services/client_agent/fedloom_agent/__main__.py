"""`python -m fedloom_agent ...`: the client agent without the `fedloom` command."""

import sys

from fedloom_agent.command import main

sys.exit(main())
