"""The embedded default keeps its promises: varied greedy output, reproducible weights, safe builds.

These guard the claim tests themselves: an equality between two generation loops proves nothing
if the model repeats one token, and a snapshot names weights only if the same seed gives the same
bytes.
"""

import json
import subprocess
import sys
import textwrap

import pytest

from genspec import REPOSITORY
from genspec.embedded import checkpoint
from spec.conftest import CHAT_PROMPTS, GREEDY_STEPS, TINY

# Enough distinct tokens that a loop broken by one position or one cache update cannot agree
# with generate() by accident (issue #2: at least 10 in 32 greedy steps).
MIN_DISTINCT_TOKENS = 10
REPO = REPOSITORY


@pytest.fixture
def tiny_profile(monkeypatch):
    monkeypatch.setitem(checkpoint.PROFILES, "tiny", TINY)
    return "tiny"


@pytest.mark.parametrize("prompt", CHAT_PROMPTS)
def test_stand_in_greedy_continuations_are_varied(source, greedy_continuations, prompt):
    """The stand-in's greedy continuations of the articles' chat prompts use at least 10 distinct tokens in 32 steps."""
    if not source.is_stand_in:
        pytest.skip("a property of the stand-in's construction; real weights stop at <|im_end|> instead")
    continuation = greedy_continuations[prompt].tolist()
    assert len(continuation) == GREEDY_STEPS
    assert len(set(continuation)) >= MIN_DISTINCT_TOKENS, continuation


def test_same_seed_same_weights_other_seed_other_weights(tiny_profile, tmp_path):
    """Weights come from the seed alone: two builds with one seed hash the same; another seed differs."""
    first = checkpoint.ensure_stand_in(tiny_profile, 7, tmp_path / "a")
    again = checkpoint.ensure_stand_in(tiny_profile, 7, tmp_path / "b")
    other = checkpoint.ensure_stand_in(tiny_profile, 8, tmp_path / "c")
    assert first.weights_sha256 == again.weights_sha256 != other.weights_sha256


def _build_in_subprocess(cache_root, seed, kill_before_publishing=False):
    # The tokenizer rebuild is the same in every process (2 s each): hand over this one's.
    tokenizer = checkpoint._built_tokenizer()
    code = textwrap.dedent(f"""
        import os, signal, sys
        from pathlib import Path
        from genspec.embedded import checkpoint
        checkpoint.PROFILES["tiny"] = {TINY!r}
        checkpoint._built_tokenizer = lambda: Path({str(tokenizer)!r})
        if {kill_before_publishing!r}:
            # Die like a killed process: weights written, manifest not yet, nothing cleaned up.
            checkpoint.sha256_of_file = lambda path: os.kill(os.getpid(), signal.SIGKILL)
        print(checkpoint.ensure_stand_in("tiny", {seed}, Path({str(cache_root)!r})).identity)
    """)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=REPO)


def test_build_killed_halfway_leaves_nothing_loadable(tiny_profile, tmp_path):
    """A build killed before it finishes publishes no checkpoint; the next run sweeps its leftovers and builds a whole one."""
    killed = _build_in_subprocess(tmp_path, 3, kill_before_publishing=True)
    killed.communicate()
    assert killed.returncode == -9
    published = [path.name for path in tmp_path.iterdir() if not path.name.startswith(".") and path.is_dir()]
    assert published == [], "a killed build published a checkpoint"
    assert any(path.name.startswith(".") for path in tmp_path.iterdir()), "expected the killed build's staging directory"

    rebuilt = checkpoint.ensure_stand_in(tiny_profile, 3, tmp_path)
    assert json.loads((rebuilt.path / checkpoint.MANIFEST).read_text())["seed"] == 3
    assert not any(path.name.startswith(".qwen3") for path in tmp_path.iterdir()), "leftover staging directory"


def test_concurrent_builds_agree(tmp_path):
    """Two runs building the same stand-in at once produce one checkpoint, and both see the same weights."""
    builders = [_build_in_subprocess(tmp_path, 5) for _ in range(2)]
    identities = [builder.communicate()[0].strip() for builder in builders]
    assert all(builder.returncode == 0 for builder in builders)
    assert identities[0] == identities[1] != ""
    assert len([path for path in tmp_path.iterdir() if path.is_dir()]) == 1
