"""What a command-line tool of genspec says when it is given what it cannot use: one `ERROR:` line and exit code 4, as
pytest says it for the proof (a wrong --model, an unknown claim), never a traceback or argparse's usage block and code 2."""

import argparse
import functools
import sys

EXIT_CODE = 4  # pytest.ExitCode.USAGE_ERROR


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    """argparse, its complaints raised as UsageError."""

    def error(self, message: str):
        raise UsageError(f"{message} (see {self.prog} --help)")


def command(prog: str):
    """Wraps a tool's main(argv): a UsageError it raises becomes `ERROR: <prog>: <why>` on stderr and exit code 4."""
    def wrap(main):
        @functools.wraps(main)
        def guarded(argv=None) -> int:
            try:
                return main(argv)
            except UsageError as error:
                print(f"ERROR: {prog}: {error}", file=sys.stderr)
                return EXIT_CODE
        return guarded
    return wrap
