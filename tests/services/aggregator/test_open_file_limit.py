"""The aggregator lifts its soft open-file limit to the hard one (many long-polling clients, two sockets each)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import resource
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
from fedloom_aggregator.serve import OPEN_FILES_CAP, raise_open_file_limit
expected = OPEN_FILES_CAP if hard == resource.RLIM_INFINITY else min(hard, OPEN_FILES_CAP)
assert raise_open_file_limit() == expected, (raise_open_file_limit(), expected)
assert resource.getrlimit(resource.RLIMIT_NOFILE) == (expected, hard)
print("ok", expected)
"""


def test_a_low_soft_limit_is_raised_to_the_hard_one() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok")
