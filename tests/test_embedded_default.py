"""The embedded default keeps its promises: it exercises what the claims describe, reproducibly, safely built.

These guard the claim tests themselves: an equality between two generation loops proves nothing
if the model repeats one token; a repetition penalty is proven only where tokens recur; stopping
at eos only where a reply ends; a norm's weight only where it is not 1.0; and a snapshot names
weights only if the same seed gives the same bytes.
"""

import json
import subprocess
import sys
import textwrap

import pytest
import torch

from genspec import PROOF_HOME
from genspec.classification import head_replaced_by_tying
from genspec.embedded import checkpoint
from genspec.embedded.checkpoint import TINY
from genspec.run.printed import CHAT_PROMPTS, GREEDY_STEPS
from genspec.steps import eos_ids
from genspec.stored import stored_norm_weights

pytestmark = pytest.mark.tool  # checks the tool, not the articles: `pytest -m tool`

# Enough distinct tokens that a loop broken by one position or one cache update cannot agree
# with generate() by accident (issue #2: at least 10 in 32 greedy steps).
MIN_DISTINCT_TOKENS = 10
REPO = PROOF_HOME


@pytest.fixture
def tiny_profile(monkeypatch):
    monkeypatch.setitem(checkpoint.PROFILES, "tiny", TINY)
    return "tiny"


@pytest.fixture
def stand_in(source):
    if not source.is_stand_in:
        pytest.skip("a property of the stand-in's construction (genspec/embedded/weights.py), not of real weights")
    return source


@pytest.fixture
def stand_in_head(stand_in):
    if head_replaced_by_tying(stand_in.path):
        pytest.skip("this transformers ties lm_head to embed_tokens (A7), so the stand-in's constructed head is not the one scoring")
    return stand_in


@pytest.mark.parametrize("prompt", CHAT_PROMPTS)
def test_stand_in_greedy_continuations_are_varied(stand_in, greedy_continuations, prompt):
    """The stand-in's greedy continuations of the articles' chat prompts use at least 10 distinct tokens (issue #2)."""
    continuation = greedy_continuations[prompt].tolist()
    assert len(set(continuation)) >= MIN_DISTINCT_TOKENS, continuation


def test_stand_in_continuations_repeat_tokens_and_the_prompts(stand_in_head, greedy_continuations, greedy_step_scores, forward_passes):
    """Tokens recur, and tokens already in the text rank in the top 50 (G7's top-k) at some steps: what a repetition penalty acts on."""
    repeated = {name: len(c) - len(set(c.tolist())) for name, c in greedy_continuations.items()}
    assert any(repeated.values()), f"no greedy continuation repeats a token: {repeated}"
    seen_in_top_50 = 0
    for name in CHAT_PROMPTS:
        text = forward_passes[name].tokens["input_ids"][0].tolist() + greedy_continuations[name].tolist()
        prompt_length = forward_passes[name].tokens["input_ids"].shape[1]
        for step, scores in enumerate(greedy_step_scores[name]):
            seen_in_top_50 += bool(set(scores.topk(50).indices.tolist()) & set(text[: prompt_length + step]))
    assert seen_in_top_50 >= 8, f"tokens already in the text rank in the top 50 at only {seen_in_top_50} steps"


def test_stand_in_reply_ends_on_the_model_cards_eos(stand_in_head, model, tokenizer, greedy_continuations):
    """One reply ends on <|im_end|>, the model card's eos, within the 32 greedy steps; the other runs all 32 (G2 needs both)."""
    im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert im_end in eos_ids(model)
    ends = {name: continuation[-1].item() == im_end and len(continuation) < GREEDY_STEPS for name, continuation in greedy_continuations.items()}
    lengths = {name: len(continuation) for name, continuation in greedy_continuations.items()}
    assert sorted(ends.values()) == [False, True], f"ends on <|im_end|>: {ends}; lengths {lengths}"


def test_stand_in_norm_weights_are_drawn_away_from_one(stand_in):
    """Norm weights are not the default 1.0: a norm that ignored its weight, or a weight not loaded, would change the scores."""
    weights = torch.cat([weight.float() for weight in stored_norm_weights(stand_in.path).values()])
    assert (weights == 1.0).float().mean() < 0.05 and weights.log().std() > 0.2, f"spread {weights.log().std():.3f}"


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
