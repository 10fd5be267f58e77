"""Snapshot fixtures (syrupy): every observation a claim test makes, recorded per model identity.

Recorded observations, not expectations: they make a model or library update show up as a
reviewable diff even where the claim still holds. They live under
fixtures/snapshots/<model identity>/<dtype>/<test module>/<test>.json, so another model writes a
new set beside the old one. What the machine decides (seeded draws; in bfloat16, which near-ties
flip) is recorded per platform, in an on-<platform>/ directory beside them (genspec/run/platform.py).
What a transformers release decides is recorded per release range inside the file
(genspec/reports/release_recordings.py).
"""

import json
import re
from pathlib import Path

from packaging.version import Version
from syrupy.data import SnapshotCollections
from syrupy.extensions.json import JSONSnapshotExtension

from genspec import FIXTURES
from genspec.files import write_whole
from genspec.reports import observations, release_recordings
from genspec.reports.release_recordings import Judged, Releases

SNAPSHOT_ROOT = FIXTURES / "snapshots"
CORRUPT = "genspec-corrupt-snapshot"
DAMAGED = "damaged recording: "  # a test's failure that names a damaged recording starts so; the proof report reads it as that status


def identity_directory(identity: str, dtype: str, root: Path | None = None) -> Path:
    """<root>/<identity>/<dtype>, the root being the shipped fixtures/snapshots unless given; hub ids such as
    Qwen/Qwen3-0.6B@rev become Qwen--Qwen3-0.6B@rev."""
    return (root or SNAPSHOT_ROOT) / re.sub(r"[^\w.@-]+", "--", identity) / dtype


def readable_json(data, indent: str = "") -> str:
    """JSON with one line per row of numbers or ids, so a diff of a snapshot file reads like the articles' prints."""
    inner = indent + "  "
    if isinstance(data, dict) and data:
        items = [f"{inner}{json.dumps(key, ensure_ascii=False)}: {readable_json(value, inner)}" for key, value in data.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(data, list) and any(isinstance(item, (dict, list)) for item in data):
        return "[\n" + ",\n".join(inner + readable_json(item, inner) for item in data) + "\n" + indent + "]"
    return json.dumps(data, ensure_ascii=False)


class ObservationExtension(JSONSnapshotExtension):
    """JSON snapshots compared with observations.compare: exact for ids and texts, within tolerance for numbers.

    A file may hold one recording per transformers release range: the run's release is judged by
    the range that holds it, or the nearest (release_recordings.py), and the diff names both.
    """

    root: Path = SNAPSHOT_ROOT
    atol: float = 0.0
    rtol: float = 0.0
    release: Version = Version("0")
    default: Releases | None = None  # the range the plain recordings were recorded on (releases.json)
    updating: bool = False
    only_recorded: bool = False  # the test's own rule judges; the snapshot only records

    @classmethod
    def write_snapshot_collection(cls, *, snapshot_collection, name_order=None) -> None:
        """As syrupy writes a single-file snapshot, but whole or not at all: a run interrupted while it writes keeps the recording."""
        write_whole(Path(snapshot_collection.location), next(iter(snapshot_collection)).data)

    @classmethod
    def for_run(cls, root: Path, atol: float, rtol: float, **context) -> type["ObservationExtension"]:
        # syrupy asks the class for its directory, so each run gets a class of its own.
        return type("ObservationExtension", (cls,), {"root": root, "atol": atol, "rtol": rtol, **context})

    @classmethod
    def dirname(cls, *, test_location) -> str:
        return str(cls.root / test_location.basename)

    @classmethod
    def discovery_dirname(cls, *, test_location) -> str:
        return str(cls.root)

    def owns_snapshot_collection(self, *, filepath: str, test_location) -> bool:
        # Only <root>/<test module>/<test>.json: the per-platform recordings in <root>/on-*/ belong to
        # their platform's runs, so a run elsewhere neither reports them unused nor deletes them.
        return Path(filepath).parent.parent == self.root and self.is_snapshot_location(location=filepath)

    def discover_snapshots(self, *, test_location, ignore_extensions=None) -> SnapshotCollections:
        # Nothing for syrupy to find: it would take a run of some claims (`--claims`, a user's recordings folder) for the whole
        # proof, and delete or advise deleting every other claim's recordings. genspec keeps the account of recordings no test
        # makes any more itself, from runs of the whole proof (genspec/reports/obsolete_recordings.py).
        return SnapshotCollections()

    def serialize(self, data, **kwargs) -> str:
        return readable_json(data) + "\n"

    def read_snapshot_data_from_location(self, *, snapshot_location: str, snapshot_name: str, session_id: str):
        text = super().read_snapshot_data_from_location(
            snapshot_location=snapshot_location, snapshot_name=snapshot_name, session_id=session_id
        )
        if text is None:
            return None
        try:
            json.loads(text)
        except json.JSONDecodeError as error:
            # Not a match, so --snapshot-update rewrites it; without it the diff names the file.
            return json.dumps({CORRUPT: f"{snapshot_location} is not valid JSON ({error}); re-record it with --snapshot-update"})
        return text

    def judged(self, snapshot_data: str) -> Judged:
        return release_recordings.judging(release_recordings.recordings(json.loads(snapshot_data), self.default), self.release)

    def matches(self, *, serialized_data, snapshot_data) -> bool:
        recorded = json.loads(snapshot_data)
        if CORRUPT in recorded:
            return False
        if self.updating:  # serialized_data is already the file as the update leaves it
            return recorded == json.loads(serialized_data)
        return self.only_recorded or not self.drifts(serialized_data, snapshot_data)

    def drifts(self, serialized_data, snapshot_data) -> list[observations.Drift]:
        return observations.compare(self.judged(snapshot_data).observation, json.loads(serialized_data), self.atol, self.rtol)

    def diff_lines(self, serialized_data, snapshot_data):
        if not snapshot_data:
            yield "nothing recorded for this test yet: record it with --snapshot-update"
            return
        recorded = json.loads(snapshot_data)
        if CORRUPT in recorded:
            yield f"corrupt snapshot: {recorded[CORRUPT]}"
            return
        judged = self.judged(snapshot_data)
        if judged.releases is not None and (judged.releases != self.default or not judged.inside):
            yield f"on transformers {self.release}, against {judged.describe(self.release)}:"
        for drift in self.drifts(serialized_data, snapshot_data):
            yield f"{drift.path}: {drift.message}"


def read_recordings(location: Path, observation, default: Releases | None) -> tuple[dict | None, str | None]:
    """The recordings of the snapshot file at `location` by release range (None where nothing readable is recorded), and why they
    cannot judge an observation of this test — not JSON, cut short, a key the test records missing — or None: a damaged file
    is named as such, never read as a drift."""
    try:
        text = location.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError) as error:
        return None, f"cannot be read ({error})"
    try:
        content = json.loads(text)
    except json.JSONDecodeError as error:
        if error.pos >= len(text.rstrip()):
            return None, f"is cut short: its JSON ends unfinished after {len(text)} characters (line {error.lineno})"
        return None, f"is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})"
    try:
        recorded = release_recordings.recordings(content, default)
    except (AttributeError, TypeError, ValueError) as error:
        return None, f"holds release ranges that do not read as such ({error})"
    as_stored = json.loads(json.dumps(observation))
    for releases, recording in recorded.items():
        missing = _missing_keys(recording, as_stored)
        if missing:
            return recorded, (f"lacks {', '.join(missing[:3])}{' and more' if len(missing) > 3 else ''}, which this test records"
                              + (f" (its recording for transformers {releases.label})" if releases else "")
                              + ": the file is damaged, or another genspec recorded it")
    return recorded, None


def _missing_keys(recorded, observed, path: str = "") -> list[str]:
    """The keys of an observation (and of the objects inside it) that its recording lacks."""
    if not isinstance(observed, dict):
        return []
    if not isinstance(recorded, dict):
        return [path or "every key"]
    where = lambda key: f"{path}.{key}" if path else key
    missing = [where(key) for key in observed if key not in recorded]
    return missing + [deeper for key in observed if key in recorded for deeper in _missing_keys(recorded[key], observed[key], where(key))]


def drift_message(location: Path, judged: Judged, drifts: list[observations.Drift], release: Version) -> str:
    """What a user reads when an observation drifted: the recording, the releases it holds for, and each difference."""
    return (f"snapshot differs: on transformers {release}, against {judged.describe(release)} ({shown(location)}): "
            + "; ".join(f"{drift.path}: {drift.message}" for drift in drifts)
            + ". If the change is expected, --snapshot-update records it")


def shown(path: Path) -> str:
    """A path as a user finds it: relative to where the run started when it lies below, else whole."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def updated_file(recorded: dict | None, observation, release: Version, default: Releases | None, atol: float, rtol: float):
    """What the snapshot file holds after `--snapshot-update` on `release` (release_recordings.updated)."""
    if recorded is None:
        return observation
    matches = lambda was, now: not observations.compare(was, now, atol, rtol)
    return release_recordings.content(release_recordings.updated(recorded, release, observation, matches, default), default)
