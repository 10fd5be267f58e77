"""What an install of genspec exposes: the package alone. The Quick start's editable install (and tox's) maps `genspec` to this
checkout and nothing else, so the checkout's spec/, tests/, benchmarks/ and conftest.py do not import from any directory, as
they do not from the wheel. pytest still finds the proof here, from its rootdir. `pytest -m tool`."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.tool

CHECKOUT_ONLY = ("spec", "tests", "benchmarks", "conftest")


def test_the_install_exposes_genspec_alone(tmp_path):
    probe = ("import importlib.util as found, genspec; "
             f"print(genspec.__file__); print([name for name in {CHECKOUT_ONLY!r} if found.find_spec(name)])")
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=False,
                          env={"PATH": "", "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    package, leaked = done.stdout.splitlines()
    assert package.endswith("__init__.py"), f"genspec resolves to no package ({package}): an empty folder of that name shadows it"
    assert leaked == "[]", f"importable from any directory, from this checkout: {leaked}"


def test_the_command_run_from_another_directory_warns_of_nothing_of_its_own(tmp_path, settings):
    """`genspec` from a directory outside the checkout, with the install this environment has (the Quick start's editable one
    in CI): pytest offered to rewrite the editable install's import hook and every run ended in "1 warning"."""
    done = subprocess.run([sys.executable, "-m", "genspec", "--claims", "S3", "--stand-in-cache",
                           str(settings.cache_root)], cwd=tmp_path, capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:]
    summary = done.stdout.strip().splitlines()[-1]
    assert "warning" not in summary, done.stdout[done.stdout.find("warnings summary"):][:2000]
