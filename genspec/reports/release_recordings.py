"""Recordings per transformers release range: which recording judges a run, and what an update writes.

Most observations are the model's and hold on every release: their snapshot file is the plain
observation, recorded for the range of releases in `<identity>/<dtype>/releases.json` (every
release the set was recorded or confirmed on). Where a release truly changes an observation (4.x
ties a stored lm_head to the embedding, so every score the stand-in gives differs), the file holds
one recording per release range instead:

    {"recorded per transformers release": {"4.51.3–4.57.6": {...}, "5.0.0–5.24.0": {...}}}

A release inside a range is judged by that range's recording. A release outside every range is
judged by the nearest range below it (a behaviour lasts until the release that changes it), or the
lowest one if it is older than all — as transformers' `Expectations` fall back to the nearest key.

`--snapshot-update` on a release keeps this honest: an observation that still matches widens the
range that judged it to the release; one that differs overwrites its range's recording if the
release lies inside that range (the suite or the model changed, not the library), else it becomes
a new range's recording — unless it matches the next range above, which then widens down to it.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from packaging.version import Version

from genspec.files import write_whole

BY_RELEASE = "recorded per transformers release"
DASH = "–"
RELEASES_FILE = "releases.json"


@dataclass(frozen=True)
class Releases:
    """A closed range of transformers releases, written `4.51.3–4.57.6` (or `4.51.3` for one)."""

    first: Version
    last: Version

    @classmethod
    def parse(cls, label: str) -> "Releases":
        first, _, last = label.partition(DASH)
        return cls(Version(first), Version(last or first))

    @classmethod
    def of(cls, release: str | Version) -> "Releases":
        return cls(Version(str(release)), Version(str(release)))

    @property
    def label(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}{DASH}{self.last}"

    def __contains__(self, release: Version) -> bool:
        return self.first <= release <= self.last

    def widened(self, release: Version) -> "Releases":
        return Releases(min(self.first, release), max(self.last, release))


@dataclass(frozen=True)
class Judged:
    """Which recording judges a run on `release`, and whether the release lies inside its range."""

    releases: Releases | None  # None: a plain file without releases.json, recorded for every release
    observation: object
    inside: bool

    def describe(self, release: Version) -> str:
        if self.releases is None:
            return "the recording for every release"
        if self.inside:
            return f"the recording for transformers {self.releases.label}"
        return f"the nearest recording, for transformers {self.releases.label} ({release} is not recorded)"


def read_default_range(identity_dtype_directory: Path) -> Releases | None:
    """The releases the plain recordings in this directory were recorded or confirmed on (None if unknown)."""
    path = identity_dtype_directory / RELEASES_FILE
    try:
        return Releases.parse(json.loads(path.read_text(encoding="utf-8"))["transformers"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path} is not a release range such as {{\"transformers\": \"5.0.0{DASH}5.24.0\"}} ({error})") from None


def write_default_range(identity_dtype_directory: Path, releases: Releases) -> None:
    identity_dtype_directory.mkdir(parents=True, exist_ok=True)
    write_whole(identity_dtype_directory / RELEASES_FILE, json.dumps({"transformers": releases.label}, ensure_ascii=False) + "\n")


def recordings(content, default: Releases | None) -> dict[Releases | None, object]:
    """The recordings a snapshot file holds, by release range (a plain file: one, for the default range)."""
    if isinstance(content, dict) and set(content) == {BY_RELEASE}:
        return {Releases.parse(label): observation for label, observation in content[BY_RELEASE].items()}
    return {default: content}


def judging(recorded: dict[Releases | None, object], release: Version) -> Judged:
    """The recording that judges `release`: the range holding it, else the nearest below, else the lowest."""
    ranges = list(recorded)
    if None in ranges:
        return Judged(None, recorded[None], True)
    holding = [each for each in ranges if release in each]
    if holding:
        narrowest = max(sorted(holding, key=lambda each: each.last), key=lambda each: each.first)
        return Judged(narrowest, recorded[narrowest], True)
    below = [each for each in ranges if each.last < release]
    nearest = max(below, key=lambda each: each.last) if below else min(ranges, key=lambda each: each.first)
    return Judged(nearest, recorded[nearest], False)


def updated(recorded: dict[Releases | None, object], release: Version, observation, matches, default: Releases | None):
    """The recordings after `--snapshot-update` on `release`; `matches(recorded, observed)` compares within tolerance.

    A plain file that still matches is left as it is: the default range is widened once, for the whole set.
    """
    judged = judging(recorded, release)
    result = dict(recorded)
    plain = list(recorded) == [default]
    if judged.inside or (plain and matches(judged.observation, observation)):
        if not matches(judged.observation, observation):
            result[judged.releases] = observation  # inside its range: the suite or the model changed, not the library
        return result
    above = [each for each in recorded if each.first > release]
    for candidate in [judged.releases] + sorted(above, key=lambda each: each.first)[:1]:
        if matches(recorded[candidate], observation):
            result[candidate.widened(release)] = result.pop(candidate)
            return dict(sorted(result.items(), key=lambda item: item[0].first))
    result[Releases.of(release)] = observation
    return dict(sorted(result.items(), key=lambda item: item[0].first))


def content(recorded: dict[Releases | None, object], default: Releases | None):
    """What the snapshot file holds: the plain observation where one recording covers the default range."""
    if len(recorded) == 1 and next(iter(recorded)) in (None, default):
        return next(iter(recorded.values()))
    return {BY_RELEASE: {releases.label: observation for releases, observation in recorded.items()}}
