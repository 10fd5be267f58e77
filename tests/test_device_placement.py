"""Every tensor the suite makes lives on the run's device: checked on a fake GPU, so a CPU-only run catches it.

A tool test, not a claim: a GPU run that fails on a tensor left on the CPU never judges its claim.
The loops and helpers run on a tiny Qwen3 on a stand-in device (genspec/run/device_audit.py);
a call that mixes devices fails here as on the GPU. What a test module computes inline is checked on
a real GPU only (README, "On a GPU").
"""

import pytest
import torch
from safetensors.torch import save_file
from transformers import Qwen3Config, Qwen3ForCausalLM, Qwen3ForSequenceClassification

from genspec import loops
from genspec.classification import check_score_is_lm_head
from genspec.run.device_audit import STAND_IN_GPU, DeviceMismatch, on_fake_device
from genspec.steps import last_position_scores
from genspec.stored import stored_lm_head

pytestmark = pytest.mark.tool  # checks the tool, not the articles: `pytest -m tool`

# A tiny Qwen3: placement does not depend on size.
CONFIG = {"vocab_size": 64, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
          "num_key_value_heads": 1, "head_dim": 8, "tie_word_embeddings": False}
EDITS = {"temperature": 0.6, "top_k": 20, "top_p": 0.95, "repetition_penalty": 1.3}  # every score edit the loop makes
DEVICE = STAND_IN_GPU  # meta: a device other than the CPU, without data


# The models are placed before the audit, as a user's are before a run: moving them is not what it checks.
@pytest.fixture(scope="module")
def model():
    return Qwen3ForCausalLM(Qwen3Config(**CONFIG)).eval().to(DEVICE)


@pytest.fixture(scope="module")
def classifier():
    return Qwen3ForSequenceClassification(Qwen3Config(**CONFIG, num_labels=CONFIG["vocab_size"])).eval().to(DEVICE)


@pytest.fixture
def ids(model, classifier):
    """Prompt ids on the device, inside the audit."""
    with on_fake_device(DEVICE), torch.inference_mode():
        yield torch.tensor([[1, 2, 3, 4]], device=DEVICE)


def test_the_audit_fails_a_tensor_left_on_the_cpu(ids):
    """The audit itself: a CPU tensor or a CPU generator meeting a GPU tensor fails, as on a GPU."""
    with pytest.raises(DeviceMismatch, match=r"\['cpu', 'meta'\]"):
        torch.cat([ids, torch.tensor([[5]])], dim=-1)
    with pytest.raises(DeviceMismatch):
        torch.multinomial(torch.ones(1, 4, device=ids.device), 1, generator=torch.Generator())


@pytest.mark.parametrize("use_cache", [True, False])
def test_greedy_loop_stays_on_the_device(model, ids, use_cache):
    assert loops.greedy(model, ids, 3, eos_token_ids={7}, use_cache=use_cache).device == ids.device


def test_sampling_loop_draws_from_the_devices_generator(model, ids):
    assert loops.sample(model, ids, 3, seed=0, eos_token_ids={7}, **EDITS).device == ids.device


def test_beam_search_and_tree_stay_on_the_device(model, ids):
    assert loops.beam_search(model, ids, num_beams=3, max_new_tokens=3).device == ids.device
    assert len(loops.top_k_tree(model, ids, k=3, depth=2)) == 2


def test_uncached_step_scores_stay_on_the_device(model, ids):
    assert last_position_scores(model, ids, [5, 6])(2).device == ids.device


def test_classifier_check_reads_the_stored_head_onto_the_device(classifier, ids, tmp_path):
    """C1's check compares the classifier's score.weight on the GPU with lm_head.weight read from the file."""
    save_file({"lm_head.weight": torch.zeros(CONFIG["vocab_size"], CONFIG["hidden_size"])}, str(tmp_path / "model.safetensors"))
    info = {"missing_keys": [], "unexpected_keys": [], "mismatched_keys": []}
    check_score_is_lm_head(classifier, info, stored_lm_head(tmp_path, like=classifier.score.weight))
    assert loops.classify_greedily(classifier, ids, 2, eos_token_ids={7}).device == ids.device
