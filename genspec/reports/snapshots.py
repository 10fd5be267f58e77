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
from syrupy.extensions.json import JSONSnapshotExtension

from genspec import FIXTURES
from genspec.files import write_whole
from genspec.reports import observations, release_recordings
from genspec.reports.release_recordings import Judged, Releases

SNAPSHOT_ROOT = FIXTURES / "snapshots"
CORRUPT = "genspec-corrupt-snapshot"


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


def recordings_in(location: Path, default: Releases | None) -> dict | None:
    """The recordings of the snapshot file at `location` by release range, or None where nothing readable is recorded."""
    try:
        return release_recordings.recordings(json.loads(location.read_text(encoding="utf-8")), default)
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def updated_file(recorded: dict | None, observation, release: Version, default: Releases | None, atol: float, rtol: float):
    """What the snapshot file holds after `--snapshot-update` on `release` (release_recordings.updated)."""
    if recorded is None:
        return observation
    matches = lambda was, now: not observations.compare(was, now, atol, rtol)
    return release_recordings.content(release_recordings.updated(recorded, release, observation, matches, default), default)
