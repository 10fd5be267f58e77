"""Faults for the tests of the tool (tests/test_unfinished_update.py, tests/test_memory_warning.py), loaded with
`-p genspec.faults.interruptions` in a subprocess; never by a run of the proof.

GENSPEC_TEST_INTERRUPT_AFTER=N: Ctrl-C after N tests, as a user's (pytest handles the KeyboardInterrupt as it handles theirs).
GENSPEC_TEST_MEMORY_FREE=BYTES: the machine says it has only that much memory free (a laptop with a browser open).
"""

import os

from genspec.run import memory

if os.environ.get("GENSPEC_TEST_MEMORY_FREE"):
    memory.available = lambda: int(os.environ["GENSPEC_TEST_MEMORY_FREE"])

finished = 0


def pytest_runtest_logfinish(nodeid, location):
    global finished
    finished += 1
    if finished == int(os.environ.get("GENSPEC_TEST_INTERRUPT_AFTER", "0")):
        raise KeyboardInterrupt
