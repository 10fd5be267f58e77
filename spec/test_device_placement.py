"""Every tensor the suite makes lives on the run's device: checked on a fake GPU, so a CPU-only run catches it.

A tool test, not a claim: a GPU run that fails on a tensor left on the CPU never judges its claim.
The loops and helpers run on a stub model whose tensors are fakes on `cuda` (genspec/run/device_audit.py);
a call that mixes devices fails here as on the GPU. What a test module computes inline is checked on
a real GPU only (README, "On a GPU").
"""

from types import SimpleNamespace

import pytest
import torch
from safetensors.torch import save_file

from genspec import loops
from genspec.classification import check_score_is_lm_head, stored_lm_head
from genspec.run.device_audit import DeviceMismatch, on_fake_device
from spec.conftest import last_position_scores

VOCAB, WIDTH = 64, 8
CARD_SAMPLING = {"temperature": 0.6, "top_k": 20, "top_p": 0.95}


class StubCache:
    """Keys and values reduced to one tensor: enough for the loops to carry, extend and reorder on the model's device."""

    def __init__(self, states):
        self.states = states

    def reorder_cache(self, beam_idx):
        self.states = self.states.index_select(0, beam_idx)


class StubLM(torch.nn.Module):
    """A causal LM as the loops see it — ids in; logits, a cache out — with its weights on the fake device.

    Not transformers' model: on a fake CUDA device without CUDA its kernels ask for a CUDA device
    guard, and how transformers places its own tensors is not this suite's to check.
    """

    def __init__(self, device):
        super().__init__()
        self.embed = torch.nn.Parameter(torch.empty(VOCAB, WIDTH, device=device), requires_grad=False)
        self.head = torch.nn.Parameter(torch.empty(VOCAB, WIDTH, device=device), requires_grad=False)  # autograd on a fake GPU aborts
        self.score = SimpleNamespace(weight=self.head)  # the classifier's head, as C1 reads it

    @property
    def device(self):
        return self.embed.device

    def forward(self, input_ids, past_key_values=None, use_cache=True, logits_to_keep=0, attention_mask=None):
        hidden = torch.nn.functional.embedding(input_ids, self.embed)
        if past_key_values is not None:
            hidden = hidden + past_key_values.states[:, -1:]
        logits = hidden[:, -logits_to_keep:] @ self.head.T
        return SimpleNamespace(logits=logits, past_key_values=StubCache(hidden) if use_cache else None)


class StubClassifier(StubLM):
    def forward(self, input_ids, attention_mask=None):
        return SimpleNamespace(logits=super().forward(input_ids).logits[:, -1])


@pytest.fixture
def fake_gpu():
    with on_fake_device() as device:
        yield device, StubLM(device), torch.tensor([[1, 2, 3, 4]], device=device)


def test_the_audit_fails_a_tensor_left_on_the_cpu(fake_gpu):
    """The audit itself: a CPU tensor or a CPU generator meeting a GPU tensor fails, as on a GPU."""
    *_, ids = fake_gpu
    with pytest.raises(DeviceMismatch, match=r"\['cpu', 'meta'\]"):
        torch.cat([ids, torch.tensor([[5]])], dim=-1)
    with pytest.raises(DeviceMismatch):
        torch.multinomial(torch.ones(1, 4, device=ids.device), 1, generator=torch.Generator())


@pytest.mark.parametrize("use_cache", [True, False])
def test_greedy_loop_stays_on_the_device(fake_gpu, use_cache):
    _, model, ids = fake_gpu
    assert loops.greedy(model, ids, 3, eos_token_ids={7}, use_cache=use_cache).device == ids.device


def test_sampling_loop_draws_from_the_devices_generator(fake_gpu):
    _, model, ids = fake_gpu
    assert loops.sample(model, ids, 3, seed=0, eos_token_ids={7}, **CARD_SAMPLING | {"repetition_penalty": 1.3}).device == ids.device


def test_beam_search_and_tree_stay_on_the_device(fake_gpu):
    _, model, ids = fake_gpu
    assert loops.beam_search(model, ids, num_beams=3, max_new_tokens=3).device == ids.device
    assert len(loops.top_k_tree(model, ids, k=3, depth=2)) == 2


def test_uncached_step_scores_stay_on_the_device(fake_gpu):
    _, model, ids = fake_gpu
    assert last_position_scores(model, ids, [5, 6])(2).device == ids.device


def test_classifier_check_reads_the_stored_head_onto_the_device(fake_gpu, tmp_path):
    """C1's check compares the classifier's score.weight on the GPU with lm_head.weight read from the file."""
    device, _, ids = fake_gpu
    save_file({"lm_head.weight": torch.zeros(VOCAB, WIDTH)}, str(tmp_path / "model.safetensors"))
    classifier = StubClassifier(device)
    info = {"missing_keys": [], "unexpected_keys": [], "mismatched_keys": []}
    check_score_is_lm_head(classifier, info, stored_lm_head(tmp_path, like=classifier.score.weight))
    assert loops.classify_greedily(classifier, ids, 2, eos_token_ids={7}).device == ids.device
