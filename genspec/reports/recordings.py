"""The recording policy, a plugin of genspec.suite: where a run's recordings live, the `recorded` fixture every claim test
records through, and what an update of the whole proof does to the recordings' release range.

Where: the default's recordings ship with genspec (fixtures/snapshots) and are read there, never written; every other
model's recordings, and any `--snapshot-update`, go to the user's recordings folder (`--recordings DIR`, default
./genspec-recordings). A first update of a shipped model copies its recordings there and updates the copy. In a checkout
the recordings folder is fixtures/snapshots itself: a developer records what ships.
"""

import json
import shutil
from pathlib import Path

import pytest

from genspec import SPEC
from genspec.reports import obsolete_recordings, release_recordings
from genspec.reports.snapshots import DAMAGED, ObservationExtension, drift_message, identity_directory, read_recordings, shown, updated_file
from genspec.run import options
from genspec.run.loading import TRANSFORMERS
from genspec.run.platform import recording_key
from genspec.run.tolerances import snapshot_tolerance

DIRECTORY_KEY = pytest.StashKey[Path]()  # this run's recordings of its model and dtype: <root>/<identity>/<dtype>
PARTIAL_KEY = pytest.StashKey[bool]()  # some claim tests were deselected
NOTES_KEY = pytest.StashKey[list]()  # what the session's end did to the recordings: their release range, obsolete recordings
DAMAGED_KEY = pytest.StashKey[list]()  # a test's recordings that could not judge it: each file and what is wrong with it
DRIFTED_KEY = pytest.StashKey[list]()  # a test's observations that differ from their recordings, in words
REPAIR = ("The claim's own checks ran and passed; nothing was compared with the file. Restore it from genspec's sources (git checkout, or "
          "reinstall genspec) or re-record it with --snapshot-update")


def directory_for(identity: str, dtype: str, own_root: Path, updating: bool) -> Path:
    """The folder this run reads and writes the recordings of `identity` in `dtype` from: the user's where they hold them
    or the run updates them (starting from a copy of what ships), else the shipped ones, only read."""
    own, shipped = identity_directory(identity, dtype, own_root), identity_directory(identity, dtype)
    if own == shipped or own.exists():
        return own
    if updating and shipped.exists():
        shutil.copytree(shipped, own)
        return own
    return shipped if shipped.exists() else own


@pytest.hookimpl(trylast=True)  # after genspec.suite has resolved the model
def pytest_configure(config):
    if config.option.help or options.SOURCE_KEY not in config.stash:
        return
    settings, source = config.stash[options.SETTINGS_KEY], config.stash[options.SOURCE_KEY]
    if settings.snapshots == "compare":  # a worker of pytest -n copies nothing: its controller has, if a copy was needed
        updating = config.option.update_snapshots and not hasattr(config, "workerinput")
        config.stash[DIRECTORY_KEY] = directory_for(source.identity, settings.dtype, settings.recordings, updating)


def header_line(config) -> str:
    settings, source = config.stash[options.SETTINGS_KEY], config.stash[options.SOURCE_KEY]
    if settings.snapshots == "report":
        return "genspec snapshots: observations go to the claims report only (--snapshots report)"
    directory = config.stash[DIRECTORY_KEY]
    if directory.exists() or config.option.update_snapshots:
        return f"genspec snapshots: {directory}{_recorded_releases(directory)}"
    return (f"genspec snapshots: none recorded for {source.identity} in {settings.dtype}; observations are reported, not "
            f"compared (--snapshot-update records them in {directory})")


def _recorded_releases(directory: Path) -> str:
    default = release_recordings.read_default_range(directory)
    if default is None:
        return ""
    if TRANSFORMERS in default:
        return f", recorded on transformers {default.label}"
    return (f", recorded on transformers {default.label}; {TRANSFORMERS} is not among them: each observation is judged by "
            "the nearest recording, and the report says which")


@pytest.fixture
def recorded(snapshot, request, settings):
    """`recorded(observation, decided_by=None, only_recorded=False)`: keep what the test observed, and compare it with this
    model's snapshot.

    decided_by names what besides the model decides the observation ("generator": seeded draws,
    "rounding": tokens chosen by argmax), so that it is recorded per platform (genspec/run/platform.py).
    Where nothing is recorded for this run's platform, the observation is reported, not compared.
    What a transformers release decides is recorded per release range (genspec/reports/release_recordings.py).
    only_recorded: the test's own rule judges the observation (X1: `SiLUActivation()` from 4.57 on), the snapshot
    only records it. Returns the recording that judges this release (a Judged), or None where there is none.
    """
    atol, rtol = snapshot_tolerance(settings.dtype, settings.device)

    def record(observation, decided_by: str | None = None, only_recorded: bool = False):
        request.node.user_properties.append(("observation", observation))
        if settings.snapshots != "compare":
            return None
        base = request.config.stash[DIRECTORY_KEY]
        key = recording_key(decided_by, settings.dtype, settings.device)
        directory = base / key if key else base
        updating = request.config.option.update_snapshots
        if key and base.exists() and not directory.exists() and not updating:
            elsewhere = sorted(path.name.removeprefix("on-") for path in base.glob("on-*"))
            request.node.user_properties.append(("evidence", (
                f"observation not compared: the {decided_by} decides it and it is recorded for "
                f"{', '.join(elsewhere) or 'no platform'}, not for {key.removeprefix('on-')} (--snapshot-update records it)")))
            return None
        if not (directory.exists() or updating):
            return None
        default = release_recordings.read_default_range(base)
        extension = ObservationExtension.for_run(directory, atol, rtol, release=TRANSFORMERS, default=default,
                                                 updating=updating, only_recorded=only_recorded)
        location = Path(extension.get_location(test_location=snapshot.test_location, index=0))
        recordings, damaged = read_recordings(location, observation, default)
        if damaged:  # an update rewrites the file; a comparison has nothing to read in it
            recordings, damaged = (recordings, None) if updating else (None, damaged)
        judged = release_recordings.judging(recordings, TRANSFORMERS) if recordings else None
        if judged and judged.releases is not None:
            request.node.user_properties.append(("judged by", judged.releases.label))
            if judged.releases != default or not judged.inside:
                request.node.user_properties.append(("evidence", f"snapshot judged by {judged.describe(TRANSFORMERS)}"))
        data = updated_file(recordings, observation, TRANSFORMERS, default, atol, rtol) if updating else observation
        # Compared through syrupy (it keeps the session's account of used and unused recordings), and judged here in words: a
        # bare `assert` would say nothing where pytest does not rewrite this module (an installed plugin imported early).
        matched = snapshot.use_extension(extension) == data
        # The claim is judged by the test's own checks first: a damaged or drifted recording fails the test after them, so a
        # claim that fails reads as its own failure, not as the recording it also moved.
        if damaged:
            request.node.stash.setdefault(DAMAGED_KEY, []).append(f"{shown(location)} {damaged}")
            return None
        if not matched:
            request.node.stash.setdefault(DRIFTED_KEY, []).append(_difference(extension, location, judged, data, directory))
        return judged

    return record


def _difference(extension, location: Path, judged, data, directory: Path) -> str:
    if judged is None:
        return f"nothing recorded for this test in {shown(directory)} yet: --snapshot-update records it"
    reading = extension()
    drifts = reading.drifts(reading.serialize(data), json.dumps(judged.observation))
    return drift_message(location, judged, drifts, TRANSFORMERS)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A test whose recording is damaged or drifted fails once its own checks have passed, saying so: damage is not a refutation of
    the claim (the proof table's status is "damaged recording"), a drift is a failure naming the recording and both values, and a
    claim that fails on its own reads as its own failure."""
    result = yield
    damaged, drifted = item.stash.get(DAMAGED_KEY, []), item.stash.get(DRIFTED_KEY, [])
    if damaged:
        pytest.fail(DAMAGED + "; ".join(damaged) + f". {REPAIR}", pytrace=False)
    if drifted:
        pytest.fail("; ".join(drifted), pytrace=False)
    return result


def pytest_deselected(items):
    # A run that leaves claim tests out confirms only some recordings: it must not widen their release range, nor judge any obsolete.
    if any(not (item.get_closest_marker("tool") or item.get_closest_marker("end_to_end")) for item in items):
        items[0].config.stash[PARTIAL_KEY] = True


def whole_proof_ran(config) -> bool:
    """Every test of the proof was selected: no claim test deselected (`--claims`, `-k`, `-m`), no narrower path, no `--lf`."""
    whole = {SPEC.resolve()} | {(config.rootpath / path).resolve() for path in config.getini("testpaths")}
    narrower = [arg for arg in config.args if Path(arg).resolve() not in whole]
    return not (config.stash.get(PARTIAL_KEY, False) or narrower or getattr(config.option, "lf", False))


def pytest_sessionfinish(session, exitstatus):
    """After a run of the whole proof: the recordings of tests it no longer has are named (deleted by an update that ran to its
    end: genspec/reports/unfinished_update.py keeps everything otherwise), and an update that passed widens the plain
    recordings' release range to this release."""
    config = session.config
    if hasattr(config, "workerinput") or DIRECTORY_KEY not in config.stash or not config.stash[DIRECTORY_KEY].exists():
        return
    whole = whole_proof_ran(config)
    if whole:
        _obsolete_recordings(session, ran_to_its_end=exitstatus == pytest.ExitCode.OK and not (session.shouldstop or session.shouldfail))
    if config.option.update_snapshots:
        _widen_the_release_range(config, whole and not session.testsfailed)


def _obsolete_recordings(session, ran_to_its_end: bool) -> None:
    config, base = session.config, session.config.stash[DIRECTORY_KEY]
    collected: dict[str, set[str]] = {}
    for item in session.items:
        if SPEC.resolve() in item.path.resolve().parents:
            collected.setdefault(item.path.stem, set()).add(item.name)
    gone = obsolete_recordings.obsolete(base, {path.stem for path in SPEC.glob("test_*.py")}, collected)
    if not gone:
        return
    updating = config.option.update_snapshots and ran_to_its_end
    if updating:
        for path in gone:
            path.unlink()
    config.stash.setdefault(NOTES_KEY, []).append(obsolete_recordings.summary(gone, base, deleted=updating))


def _widen_the_release_range(config, passed_whole: bool) -> None:
    """After `--snapshot-update` of the whole proof, the plain recordings hold for this release too."""
    base = config.stash[DIRECTORY_KEY]
    default = release_recordings.read_default_range(base)
    if default and TRANSFORMERS in default:
        return
    if not passed_whole:
        config.stash.setdefault(NOTES_KEY, []).append(
            f"genspec snapshots: recorded for transformers {default.label if default else 'no release'}, "
            f"not widened to {TRANSFORMERS}: this run did not pass every test of the proof")
        return
    widened = default.widened(TRANSFORMERS) if default else release_recordings.Releases.of(TRANSFORMERS)
    release_recordings.write_default_range(base, widened)
    config.stash.setdefault(NOTES_KEY, []).append(f"genspec snapshots: the plain recordings now hold for transformers {widened.label}")


def pytest_terminal_summary(terminalreporter, config):
    for note in config.stash.get(NOTES_KEY, []):
        terminalreporter.write_line(note)
