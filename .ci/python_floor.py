"""Python 3.10, the floor pyproject declares (transformers 5 runs there): every module of genspec, the proof and its tests
compiles, and a crash inside transformers is worded as the proof words it (genspec/reports/crashes.py, whose words once
needed 3.11's co_qualname). Run with a 3.10 interpreter holding pytest and transformers, without torch: PyPI's torch for
3.10 is a CUDA build of several GB, so the proof itself is not run here."""

import compileall
import re
import sys

import pytest
import transformers

from genspec.reports import crashes

assert sys.version_info[:2] == (3, 10), f"run this with Python 3.10, not {sys.version.split()[0]}"
for folder in ("genspec", "spec", "tests", "benchmarks"):
    assert compileall.compile_dir(folder, quiet=1), f"{folder}/ does not compile on Python {sys.version.split()[0]}"
try:
    transformers.AutoConfig.for_model("no-such-family")
except ValueError:
    said = crashes.inside_transformers(pytest.ExceptionInfo.from_current())
expected = (r"transformers itself raised ValueError: Unrecognized model identifier: no-such-family\..* — called as for_model\(\), "
            r"raised at transformers/models/auto/configuration_auto\.py:\d+ \(in for_model\), transformers [\d.]+")
assert said and re.fullmatch(expected, said), said
print(f"Python {sys.version.split()[0]}: genspec, spec, tests and benchmarks compile; a crash reads: {said[:60]}…{said[-90:]}")
