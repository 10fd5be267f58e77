"""Make the newest transformers release the one this environment proves, as a user installs it.

    python -m genspec.newest_release        # tox's newest-release environment runs it before the proof

pip quietly falls back to an older release when the newest declares a requirement the package index cannot satisfy (5.25.0
asks for kernels>=0.19.1,<0.20; an index may have kernels up to 0.17.2), and a proof of that older release would go out under
the newest one's name. So: where the newest release installs with its declared requirements, it is installed so; where it does
not, one line says which release and which requirement the index lacks, and the release is installed without that
requirement (its others as declared), as a user of that index would have to. Exits 1 if the environment still holds another
release, so nothing older is ever proven as the newest.
"""

import subprocess
import sys
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

from genspec.bisect import listed_releases

PACKAGE = "transformers"


def pip(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *arguments], capture_output=True, text=True, check=False)


def declared_requirements(release: Version) -> list[Requirement]:
    """What the release's wheel declares it needs outside its extras, read from its metadata."""
    with tempfile.TemporaryDirectory() as folder:
        fetched = pip("download", "--quiet", "--no-deps", "--only-binary=:all:", "-d", folder, f"{PACKAGE}=={release}")
        if fetched.returncode:
            raise SystemExit(f"genspec newest release: {PACKAGE} {release} could not be fetched ({last_line(fetched)})")
        wheel = next(Path(folder).glob("*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            name = next(entry for entry in archive.namelist() if entry.endswith(".dist-info/METADATA"))
            lines = archive.read(name).decode("utf-8").splitlines()
    declared = [Requirement(line.split(":", 1)[1].strip()) for line in lines if line.startswith("Requires-Dist:")]
    return [requirement for requirement in declared if not requirement.marker or requirement.marker.evaluate({"extra": ""})]


def unavailable(requirements: list[Requirement]) -> list[tuple[Requirement, str]]:
    """The requirements the package index cannot satisfy, each with the newest release it has of that package."""
    missing = []
    for requirement in requirements:
        if pip("install", "--quiet", "--dry-run", "--no-deps", str(requirement)).returncode:
            listed = listed_releases(requirement.name) if pip("index", "versions", requirement.name).returncode == 0 else []
            missing.append((requirement, f"newest on the index: {listed[-1]}" if listed else "not on the index"))
    return missing


def last_line(done: subprocess.CompletedProcess) -> str:
    return (done.stderr.strip().splitlines() or done.stdout.strip().splitlines() or ["no message"])[-1]


def main() -> int:
    newest = listed_releases(PACKAGE)[-1]
    pin = f"{PACKAGE}=={newest}"
    if pip("install", "--quiet", "--dry-run", pin).returncode == 0:
        installed = pip("install", "--quiet", pin)
        said = f"genspec newest release: {PACKAGE} {newest}, installed with every requirement it declares ({{installed}})"
    else:
        declared = declared_requirements(newest)
        missing = unavailable(declared)
        if not missing:
            raise SystemExit(f"genspec newest release: {PACKAGE} {newest} does not install here, yet the index has each of its "
                             "requirements: see `pip install " + pin + "`")
        lacking = {requirement.name for requirement, _ in missing}
        others = [str(requirement) for requirement in declared if requirement.name not in lacking]
        installed = pip("install", "--quiet", "--no-deps", pin)
        if installed.returncode == 0 and others:
            installed = pip("install", "--quiet", *others)
        said = (f"genspec newest release: {PACKAGE} {newest} declares "
                + ", ".join(f"{requirement} ({why})" for requirement, why in missing)
                + f", which the package index cannot satisfy: {newest} is installed without "
                + ("it" if len(missing) == 1 else "them") + ", as a user of this index has to, and proven so (with {installed})")
    if installed.returncode:
        raise SystemExit(f"genspec newest release: {PACKAGE} {newest} could not be installed ({last_line(installed)})")
    present = Version(metadata.version(PACKAGE))
    if present != newest:
        raise SystemExit(f"genspec newest release: this environment holds {PACKAGE} {present}, not the newest {newest}: "
                         "its proof would go out under the newest release's name")
    print(said.format(installed=installed_requirements()))
    return 0


def installed_requirements() -> str:
    """Each requirement the installed release declares outside its extras, with the version this environment holds of it."""
    declared = [Requirement(line) for line in metadata.requires(PACKAGE) or ()]
    names = sorted({requirement.name for requirement in declared if not requirement.marker or requirement.marker.evaluate({"extra": ""})})
    return ", ".join(f"{name} {_version(name)}" for name in names)


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


if __name__ == "__main__":
    sys.exit(main())
