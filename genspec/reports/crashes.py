"""A claim whose computation raised inside transformers, worded as such: the model's class and the call the claim made, the
exception, and the file and line in transformers where it was raised — what a maintainer needs to see it again."""

import inspect
import re
from pathlib import Path

import pytest
import transformers

from genspec.run.unjudged import Unjudged

TRANSFORMERS_HOME = Path(transformers.__file__).resolve().parent
# Exceptions that are verdicts, not crashes: a failed check, pytest's own outcomes, a claim the model cannot be judged on.
VERDICTS = (AssertionError, pytest.skip.Exception, pytest.fail.Exception, pytest.xfail.Exception, Unjudged)
RAISED = "transformers itself raised"  # how a crash's verdict begins (inside_transformers)
SITE = re.compile(rf"^{RAISED} (?P<type>\w+).*? raised at (?:\S*?/)?(?P<file>transformers/\S+?):\d+ \(in (?P<function>[\w.<>]+)\)")


def inside_transformers(excinfo: pytest.ExceptionInfo) -> str | None:
    """The crash in words where the exception was raised inside transformers' code, else None."""
    if excinfo.errisinstance(VERDICTS):
        return None
    frames = [entry for entry in excinfo.traceback if _in_transformers(entry.path)]
    if not frames:
        return None
    # The call the claim made: the outermost frame in transformers that is not one of its decorators' wrappers.
    # (A wrapper is a function defined inside another: CO_NESTED, which every Python sets; co_qualname only 3.11 on.)
    called = next((entry for entry in frames if not entry.frame.code.raw.co_flags & inspect.CO_NESTED), frames[0])
    raised = frames[-1]
    owner = called.frame.f_locals.get("self")
    call = f"{type(owner).__name__}.{called.name}()" if owner is not None else f"{called.name}()"
    message = str(excinfo.value).strip().splitlines()
    where = Path(raised.path).resolve().relative_to(TRANSFORMERS_HOME.parent).as_posix()
    inner = raised.frame.f_locals.get("self")
    function = f"{type(inner).__name__}.{raised.name}" if inner is not None else raised.name
    return (f"{RAISED} {excinfo.typename}{': ' + message[0] if message else ''} — called as {call}, raised at "
            f"{where}:{raised.lineno + 1} (in {function}), transformers {transformers.__version__}")


def _in_transformers(path) -> bool:
    try:
        Path(path).resolve().relative_to(TRANSFORMERS_HOME)
    except (TypeError, ValueError):
        return False
    return True


def raise_site(verdict: str) -> dict | None:
    """What a crash's verdict (inside_transformers) names: the exception's type, transformers' file and the function it was
    raised in (not the line, which moves between releases); None for a verdict that is no crash."""
    found = SITE.search(" ".join(verdict.split()))
    if not found:
        return None
    return {"type": found["type"], "file": found["file"].removeprefix("transformers/"), "function": found["function"].rsplit(".", 1)[-1]}
