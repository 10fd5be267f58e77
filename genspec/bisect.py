"""Find the first transformers release that changed a claim's verdict or observation.

    genspec bisect X1 4.51.3 4.57.6            # which release made act_fn print SiLUActivation()?
    genspec bisect spec/test_versions.py::test_default_load_dtype_depends_on_the_version 4.57.6 5.0.0

Like `git bisect run`, over the releases the package index lists between the two given: each
release tried gets its own throwaway virtual environment (virtualenv, with this genspec and the
same torch installed by pip), runs only that claim's tests on the small stand-in, and is compared
with the older end — same outcomes and the same observations within the snapshot tolerance, or
changed. Prints every release tried with its verdict, and the first that changed.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from packaging.version import Version

from genspec import PROOF_HOME, SHIPPED, SPEC, usage
from genspec.reports import observations
from genspec.run import claims
from genspec.run.tolerances import snapshot_tolerance

MODEL, DTYPE = "embedded-small", "float32"


@dataclass
class Tried:
    release: Version
    outcomes: dict[str, str]  # test id -> passed, failed, …
    observed: dict[str, list]  # test id -> its observations
    detail: str
    seconds: float


def listed_releases(package: str = "transformers") -> list[Version]:
    """The final releases of `package` the package index lists, oldest first."""
    asked = subprocess.run([sys.executable, "-m", "pip", "index", "versions", package], capture_output=True, text=True, check=False)
    if asked.returncode:
        said = (asked.stderr.strip().splitlines() or ["no answer"])[-1]
        raise usage.UsageError(f"the package index did not list {package}'s releases ({said})")
    found = re.search(r"Available versions:\s*(.+)", asked.stdout)
    if not found:
        raise usage.UsageError(f"pip index versions {package} listed no releases: {asked.stdout.strip()[:300]}")
    return sorted(release for release in {Version(each.strip()) for each in found.group(1).split(",")} if not release.is_prerelease)


def releases_between(first: Version, last: Version) -> list[Version]:
    """The final releases of transformers the package index lists, from first to last inclusive."""
    between = [release for release in listed_releases() if first <= release <= last]
    for end in (first, last):
        if end not in between:
            raise usage.UsageError(f"transformers {end} is not a release the package index lists")
    return between


def environment(workdir: Path, release: Version) -> Path:
    """A virtual environment with this genspec, this torch and transformers==release; its python."""
    home = workdir / f"transformers-{release}"
    python = home / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    if python.exists():
        return python
    torch_release = metadata.version("torch").split("+")[0]  # the local build tag (+cpu) is not part of the index's version
    for step in ([sys.executable, "-m", "virtualenv", "--quiet", str(home)],
                 [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                  f"torch=={torch_release}", f"transformers=={release}", *this_genspec()]):
        done = subprocess.run(step, check=False, capture_output=True, text=True)
        if done.returncode:
            shutil.rmtree(home, ignore_errors=True)  # half an environment must not be taken for a whole one next time
            said = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise usage.UsageError(f"transformers {release}: could not make its environment ({' '.join(step[:4])} …: {said})")
    return python


def this_genspec() -> list[str]:
    """What pip installs into each release's environment to get this genspec: the checkout, editable; else the wheel or
    folder this installation came from, as pip recorded it (direct_url.json, PEP 610); else this version from the index."""
    if not SHIPPED:
        return ["-e", str(PROOF_HOME)]
    try:
        origin = json.loads(metadata.distribution("genspec").read_text("direct_url.json") or "{}")
    except (metadata.PackageNotFoundError, json.JSONDecodeError):
        origin = {}
    if origin.get("url", "").startswith("file:"):
        path = Path(url2pathname(urlparse(origin["url"]).path))
        if path.exists():
            return [str(path)]
    return [f"genspec=={metadata.version('genspec')}"]


def try_release(workdir: Path, release: Version, target: str) -> Tried:
    start = time.monotonic()
    python = environment(workdir, release)
    report = workdir / f"transformers-{release}.json"
    selection = [target] if "::" in target or target.endswith(".py") else [f"--claims={target}"]
    run = subprocess.run([str(python), "-m", "genspec", "-q", "--no-header", f"--model={MODEL}",
                          f"--dtype={DTYPE}", "--snapshots=report", f"--stand-in-cache={workdir / 'stand-ins'}",
                          f"--claims-report={report}", *selection],
                         check=False, cwd=workdir, capture_output=True, text=True, env={**_clean_environment(), "HF_HUB_OFFLINE": "1"})
    if not report.exists():
        said = ((run.stderr + run.stdout).strip().splitlines() or ["no output"])[-1]
        raise usage.UsageError(f"transformers {release}: the proof wrote no claims report (exit {run.returncode}: {said})")
    tests = json.loads(report.read_text(encoding="utf-8"))["tests"]
    chosen = {nodeid: test for nodeid, test in tests.items() if nodeid == target or target in test["claims"] or nodeid.startswith(target)}
    details = [f"{nodeid.split('::')[-1]}: {test['outcome']}" + (f" ({test['detail'][:160]})" if test["detail"] else "")
               + "".join(f", {shown}" for shown in map(_short, test["observations"]) if shown) for nodeid, test in chosen.items()]
    return Tried(release, {nodeid: test["outcome"] for nodeid, test in chosen.items()},
                 {nodeid: test["observations"] for nodeid, test in chosen.items()}, "; ".join(details), time.monotonic() - start)


def _short(observation) -> str:
    """A small observation as it reads (act_fn SiLU()); a large one (a row of scores) is left to the comparison."""
    text = ", ".join(f"{key} {value}" for key, value in observation.items()) if isinstance(observation, dict) else str(observation)
    return text if len(text) <= 60 else ""


def _clean_environment() -> dict:
    # The user's GENSPEC_* settings would change what each release runs.
    return {key: value for key, value in os.environ.items() if not key.startswith("GENSPEC_")}


def differences(before: Tried, after: Tried) -> list[str]:
    """How `after` differs from `before`: outcomes, then observations beyond the snapshot tolerance."""
    atol, rtol = snapshot_tolerance(DTYPE, "cpu")
    found = [f"{nodeid.split('::')[-1]}: {before.outcomes.get(nodeid)} → {outcome}"
             for nodeid, outcome in after.outcomes.items() if before.outcomes.get(nodeid) != outcome]
    for nodeid, observed in after.observed.items():
        for was, now in zip(before.observed.get(nodeid, []), observed, strict=False):
            found += [f"{nodeid.split('::')[-1]} {drift.path}: {drift.message}" for drift in observations.compare(was, now, atol, rtol)]
    return found


def bisect(target: str, good: Version, bad: Version, workdir: Path, say=print) -> tuple[list[Tried], Version | None]:
    releases = releases_between(good, bad)
    say(f"{len(releases)} releases from {good} to {bad}; trying {target} on {MODEL}, {DTYPE}")
    tried: dict[Version, Tried] = {}

    def run(index: int) -> Tried:
        result = tried[releases[index]] = try_release(workdir, releases[index], target)
        verdict = "as " + str(good) if index and not differences(tried[good], result) else ("changed" if index else "baseline")
        say(f"  {releases[index]}: {verdict} — {result.detail} [{result.seconds:.0f} s]")
        return result

    low, high = 0, len(releases) - 1
    run(low)
    if not differences(tried[good], run(high)):
        return list(tried.values()), None
    while high - low > 1:
        middle = (low + high) // 2
        if differences(tried[good], run(middle)):
            high = middle
        else:
            low = middle
    return list(tried.values()), releases[high]


def _check_target(target: str) -> None:
    if "::" in target or target.endswith(".py"):
        module = SPEC.parent / target.split("::")[0]
        if not module.is_file():
            raise usage.UsageError(f"{target}: no such test module in the proof ({SPEC.name}/test_….py, as a run's test ids read)")
    elif target not in claims.catalogue():
        raise usage.UsageError(f"{target}: not a claim of the catalogue ({', '.join(list(claims.catalogue())[:4])}, …) nor a test id")


@usage.command("genspec bisect")
def main(argv=None) -> int:
    parser = usage.Parser(prog="genspec bisect", description=__doc__.splitlines()[0])
    parser.add_argument("target", help="a claim id (X1) or a test id (spec/test_versions.py::test_…)")
    parser.add_argument("good", type=Version, help="the older transformers release")
    parser.add_argument("bad", type=Version, help="the newer transformers release, where the verdict or observation differs")
    parser.add_argument("--workdir", type=Path, help="keep the environments here and reuse them (default: a temporary directory, removed)")
    arguments = parser.parse_args(argv)
    _check_target(arguments.target)
    if arguments.good >= arguments.bad:
        raise usage.UsageError(f"{arguments.good} is not older than {arguments.bad}: give the older release first")
    workdir = arguments.workdir or Path(tempfile.mkdtemp(prefix="genspec-bisect-"))
    workdir.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    try:
        tried, first = bisect(arguments.target, arguments.good, arguments.bad, workdir)
    finally:
        if arguments.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    minutes = (time.monotonic() - start) / 60
    if first is None:
        print(f"{arguments.target}: no difference between transformers {arguments.good} and {arguments.bad} ({len(tried)} releases tried, {minutes:.1f} min)")
        return 1
    before = max((each for each in tried if each.release < first), key=lambda each: each.release)
    after = next(each for each in tried if each.release == first)
    print(f"{arguments.target}: first changed in transformers {first} (last as before: {before.release}); "
          f"{len(tried)} releases tried in {minutes:.1f} min")
    print(f"  {before.release}: {before.detail}\n  {first}: {after.detail}")
    for line in differences(before, after):
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
