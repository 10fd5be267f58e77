"""An update of the recordings that did not run to its end keeps every recording it did not reach.

`pytest --snapshot-update` rewrites the recordings the run observed and, at its end, deletes those no test used. Stopped
before its end — Ctrl-C, `-x` at the first failure, a claim that failed before its recording — the tests it never reached
look unused, and syrupy would delete recordings that still judge the proof. Here such a session tells syrupy to keep them
(its --snapshot-no-cleanup) and says so; a session that ran every selected test and failed none cleans up as before.
"""

import pytest

from genspec import PROOF_COMMAND

KEPT_NOTE = pytest.StashKey[str]()


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session, exitstatus):
    config = session.config
    stopped = session.shouldstop or session.shouldfail or exitstatus != pytest.ExitCode.OK or session.testsfailed
    if getattr(config.option, "update_snapshots", False) and stopped and not config.option.no_cleanup:
        config.option.no_cleanup = True
        why = "it was interrupted" if exitstatus == pytest.ExitCode.INTERRUPTED else (
            f"it stopped early ({session.shouldstop or session.shouldfail})" if session.shouldstop or session.shouldfail
            else f"{session.testsfailed} test{'s' if session.testsfailed != 1 else ''} failed")
        config.stash[KEPT_NOTE] = (f"genspec snapshots: recordings no test used this time are kept, not deleted: the update did not run "
                                   f"to its end ({why}). Run `{PROOF_COMMAND} --snapshot-update` to its end to remove recordings no test reads.")
    return (yield)


def pytest_terminal_summary(terminalreporter, config):
    if KEPT_NOTE in config.stash:
        terminalreporter.write_line(config.stash[KEPT_NOTE], yellow=True)
