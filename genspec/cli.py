"""The `genspec` command: the proof in any directory, and the tools around it.

    genspec [OPTIONS]                      the proof on the embedded default; every pytest and genspec option passes through:
                                           genspec --model Qwen/Qwen3-0.6B@main --dtype bfloat16 -k causal -x
    genspec regression BEFORE AFTER        what changed between two claims reports (a model or library update)
    genspec matrix REPORT…                 claims × transformers releases, from one claims report per release
    genspec bisect CLAIM GOOD BAD          the first transformers release that changed a claim's verdict or observation
    genspec families [-o DIR]              the claims × families matrix of the installed transformers

Whatever it cannot use ends in one `ERROR:` line and exit code 4, as pytest's own usage errors do.
"""

import importlib
import sys
from pathlib import Path

from genspec import PACKAGE, SHIPPED, SPEC
from genspec.plugin import joined
from genspec.run import options

PROOF_INI = PACKAGE / "proof.ini"
# subcommand -> (module with main(argv), what it does)
SUBCOMMANDS = {
    "regression": ("genspec.reports.regression", "compare two claims reports: claims whose status changed, observations that drifted"),
    "matrix": ("genspec.reports.matrix", "claims × transformers releases (Markdown, and HTML with -o) from claims reports"),
    "bisect": ("genspec.bisect", "the first transformers release that changed a claim's verdict or observation"),
    "families": ("genspec.families.command", "the general claims on a tiny checkpoint of every family transformers maps to a causal LM"),
}


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    if arguments and arguments[0] in SUBCOMMANDS:
        return run_subcommand(arguments[0], arguments[1:])
    if arguments[:1] in (["-h"], ["--help"]):
        print(help_text())
        return 0
    return prove(arguments)


def prove(arguments: list[str]) -> int:
    import pytest  # here, not at the top: `genspec regression` needs neither pytest's start-up nor torch

    if SHIPPED:  # pytest would cache its rewritten test modules beside them, inside the installation
        sys.dont_write_bytecode = True
    return int(pytest.main(proof_arguments(arguments, Path.cwd())))


def proof_arguments(arguments: list[str], here: Path) -> list[str]:
    """pytest's arguments for the proof: its own settings (proof.ini) whatever directory it runs in, its test ids as in a
    checkout (spec/test_….py: the rootdir holds spec/), pytest's cache in the user's directory, never in the installation.
    A test id the run printed (spec/test_causality.py::test_…) selects that test wherever genspec is installed."""
    arguments = joined(arguments)
    tests = [index for index, argument in enumerate(arguments) if _names_a_test(arguments, index)]
    for index in tests:
        arguments[index] = str(SPEC.parent / arguments[index])
    return ["-p", "genspec.suite", "-c", str(PROOF_INI), "--rootdir", str(SPEC.parent), "-o", f"cache_dir={here / '.pytest_cache'}",
            *arguments, *([] if tests else [str(SPEC)])]


VALUE_TAKING = {"-k", "-m", "-p", "-o", "-c", "-W", "--rootdir", "--deselect", "--ignore"}


def _names_a_test(arguments: list[str], index: int) -> bool:
    return arguments[index].startswith(f"{SPEC.name}/test_") and (index == 0 or arguments[index - 1] not in VALUE_TAKING)


def run_subcommand(name: str, arguments: list[str]) -> int:
    return importlib.import_module(SUBCOMMANDS[name][0]).main(arguments)


def help_text() -> str:
    commands = "\n".join(f"  genspec {name:<11} {what}" for name, (_, what) in SUBCOMMANDS.items())
    settings = "\n".join(f"  {options.flag(name):<19} {text.split(' [')[0]}" for name, (_, _, text) in options.SETTINGS.items())
    return f"""usage: genspec [OPTIONS]          prove the articles' claims (pytest; every pytest option passes through)
       genspec SUBCOMMAND [ARGS]  (genspec SUBCOMMAND --help for its arguments)

{commands}

The proof's own options (each also read from GENSPEC_<NAME>):
{settings}
  --claims IDS        run only the tests that name these claims (e.g. X1,A7)
  --claims-report PATH  write the proof report as PATH (JSON), PATH.md and PATH.html

pytest's options (-k, -x, -n with pytest-xdist, --snapshot-update, …): pytest --help."""
