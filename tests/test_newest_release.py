"""tox's newest-release environment says which case it met: the newest release installed with every requirement it declares, or
installed without one the package index cannot satisfy — each with the versions the environment then holds. pip, the index and
the installed packages are played here (a release 9.9.9 that declares kernels and tokenizers), so nothing is fetched.
`pytest -m tool`."""

import subprocess
from types import SimpleNamespace

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from genspec import newest_release

pytestmark = pytest.mark.tool

DECLARED = ["kernels<0.20,>=0.19.1", "tokenizers>=0.22", 'pytest; extra == "testing"']


def play(monkeypatch, index_has_kernels: bool) -> list[tuple[str, ...]]:
    """The index lists transformers 9.9.9 and kernels up to 0.19.1, or only up to 0.17.2; returns pip's calls, as they are made."""
    calls = []
    installed = {"transformers": "9.9.9", "tokenizers": "0.23.3"} | ({"kernels": "0.19.1"} if index_has_kernels else {})

    def pip(*arguments):
        calls.append(arguments)
        wanted = " ".join(arguments)
        refused = "--dry-run" in arguments and not index_has_kernels and ("kernels" in wanted or "transformers==" in wanted)
        return subprocess.CompletedProcess(arguments, 1 if refused else 0, "", "no matching distribution" if refused else "")

    def version(name):
        if name not in installed:
            raise newest_release.metadata.PackageNotFoundError(name)
        return installed[name]

    monkeypatch.setattr(newest_release, "pip", pip)
    monkeypatch.setattr(newest_release, "listed_releases",
                        lambda name: [Version("9.9.9")] if name == "transformers" else [Version("0.17.2")])
    monkeypatch.setattr(newest_release, "declared_requirements", lambda release: [Requirement(line) for line in DECLARED[:2]])
    monkeypatch.setattr(newest_release, "metadata", SimpleNamespace(version=version, requires=lambda name: DECLARED,
                                                                    PackageNotFoundError=newest_release.metadata.PackageNotFoundError))
    return calls


def test_an_index_with_every_requirement_installs_them_all_and_names_their_versions(monkeypatch, capsys):
    calls = play(monkeypatch, index_has_kernels=True)
    assert newest_release.main() == 0
    assert capsys.readouterr().out.strip() == ("genspec newest release: transformers 9.9.9, installed with every requirement it declares "
                                               "(kernels 0.19.1, tokenizers 0.23.3)")
    assert ("install", "--quiet", "transformers==9.9.9") in calls


def test_an_index_without_a_requirement_installs_the_release_without_it_and_says_so(monkeypatch, capsys):
    calls = play(monkeypatch, index_has_kernels=False)
    assert newest_release.main() == 0
    assert capsys.readouterr().out.strip() == (
        "genspec newest release: transformers 9.9.9 declares kernels<0.20,>=0.19.1 (newest on the index: 0.17.2), which the package "
        "index cannot satisfy: 9.9.9 is installed without it, as a user of this index has to, and proven so (with kernels not installed, "
        "tokenizers 0.23.3)")
    installs = [call for call in calls if call[0] == "install" and "--dry-run" not in call]
    assert installs == [("install", "--quiet", "--no-deps", "transformers==9.9.9"), ("install", "--quiet", "tokenizers>=0.22")], installs
