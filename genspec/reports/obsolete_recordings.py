"""Which recordings belong to no test of the proof any more, and their removal by an update of the whole proof.

syrupy's own account of unused snapshots is switched off (genspec/reports/recordings.py): it cannot tell a test the run left
out (`--claims`, `-k`, a path) from a test that is gone, and it would delete the recordings of every test it did not see. Here
a recording is obsolete only when its test is gone: its module is no longer part of the proof, or a module the run collected
whole holds no test of its name. A run that selected some claims judges none.
"""

from collections.abc import Iterable
from pathlib import Path

from genspec.reports.snapshots import shown

SHOWN = 5  # obsolete recordings named in the summary line; the rest are counted


def recording_of(path: Path, base: Path) -> tuple[str, str] | None:
    """(test module, test name) of a recording file under `base` — <module>/<test>.json, or on-<platform>/<module>/<test>.json —
    or None for a file that is not a test's recording (releases.json)."""
    parts = path.relative_to(base).parts
    if path.suffix != ".json" or len(parts) not in (2, 3) or (len(parts) == 3 and not parts[0].startswith("on-")):
        return None
    return parts[-2], path.stem


def obsolete(base: Path, proof_modules: set[str], collected: dict[str, set[str]]) -> list[Path]:
    """The recording files under `base` whose test is gone: `proof_modules` names every test module of the proof, `collected`
    the test names of each module this run collected whole."""
    gone = []
    for path in sorted(base.rglob("*.json")):
        test = recording_of(path, base)
        if test is None:
            continue
        module, name = test
        if module not in proof_modules or (module in collected and not _named(name, collected[module])):
            gone.append(path)
    return gone


def _named(stem: str, names: Iterable[str]) -> bool:
    # syrupy cuts a long file name down to what the file system takes: such a file's stem starts the test's name
    return any(stem == name or (len(stem) >= 200 and name.startswith(stem)) for name in names)


def summary(paths: list[Path], base: Path, deleted: bool) -> str:
    listed = ", ".join(str(path.relative_to(base)) for path in paths[:SHOWN]) + (f" and {len(paths) - SHOWN} more" if len(paths) > SHOWN else "")
    where = shown(base)
    if deleted:
        return f"genspec snapshots: deleted {len(paths)} recordings of tests the proof no longer has, from {where}: {listed}"
    return (f"genspec snapshots: {len(paths)} recordings in {where} belong to tests the proof no longer has ({listed}); "
            "--snapshot-update of the whole proof deletes them")
