"""genspec's options, registered with pytest as an installed plugin (the `pytest11` entry point).

Why an entry point rather than `-p genspec.plugin` in the ini's addopts: pytest picks its rootdir
and ini file before any plugin's options are known, so in `pytest --model DIR` it takes an
existing DIR for a test path, looks for the ini around DIR, and never reads our addopts
(pytest#8846). An entry point loads whatever the rootdir; it knows `--model` takes a value, and
restarts pytest with `--model=DIR`, the form pytest parses right, before anything has run.

Inert elsewhere: it only adds options. The proof itself is switched on by the checkout's root
conftest.py (genspec.suite).
"""

import itertools
import os
import sys

import pytest

from genspec.run import options


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


def joined(args: list[str]) -> list[str]:
    """`--model DIR` → `--model=DIR` for every genspec option that takes a value."""
    result, rest = [], iter(args)
    for arg in rest:
        value = next(rest, None) if arg in options.VALUE_FLAGS else None
        result.append(arg if value is None else f"{arg}={value}")
    return result


def misread_values(args: list[str]) -> list[tuple[str, str]]:
    """(option, value) given with a space where the value names an existing path: pytest took it for a test path."""
    return [(flag, value) for flag, value in itertools.pairwise(args) if flag in options.VALUE_FLAGS and os.path.exists(value)]


# The outermost wrapper: it runs before pytest's capture redirects stdout and stderr, which the
# restarted process would otherwise inherit and write into.
@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config):
    restart_if_misread(early_config)
    return (yield)


def restart_if_misread(early_config: pytest.Config) -> None:
    args = list(early_config.invocation_params.args)
    misread = misread_values(args)
    if not misread:
        return
    if sys.argv[1:] != args:  # pytest.main() inside another program: not ours to restart
        flag, value = misread[0]
        raise pytest.UsageError(f"pytest reads {value} as a test path after `{flag} ` (pytest#8846): write {flag}={value}")
    # The same interpreter, its own flags and the same entry (`pytest` or `-m pytest`), with the options joined.
    command = sys.orig_argv[: len(sys.orig_argv) - len(args)] + joined(args)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, command)
