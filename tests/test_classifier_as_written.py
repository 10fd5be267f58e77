"""001's classifier built by the article's own call, on the articles' model, end to end: `from_pretrained(<checkpoint path>,
num_labels=vocab_size, key_mapping={"lm_head.weight": "score.weight"})` loads a second copy of the weights, which the proof
avoids (it builds the same classifier over the causal LM's tensors: genspec/classification.py); here, in a subprocess where
the memory allows two copies, the call as written gives the classifier C1 and C2 describe. `pytest -m end_to_end`."""

import json
import os
import subprocess
import sys

import pytest

from genspec.embedded.checkpoint import ensure_stand_in
from genspec.run.tolerances import kernel_atol

pytestmark = pytest.mark.end_to_end

# What the subprocess runs: 001's call, word for word, then the checks against the stored head and the causal LM.
AS_WRITTEN = """
import json, sys
import torch
from safetensors import safe_open
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

checkpoint = sys.argv[1]
tokenizer = AutoTokenizer.from_pretrained(checkpoint)
vocab_size = AutoModelForCausalLM.from_pretrained(checkpoint, dtype=torch.float32).config.vocab_size
key_mapping = {"lm_head.weight": "score.weight"}
model = AutoModelForSequenceClassification.from_pretrained(checkpoint, num_labels=vocab_size, key_mapping=key_mapping, dtype=torch.float32)
with safe_open(checkpoint + "/model.safetensors", framework="pt") as handle:
    stored = handle.get_tensor("lm_head.weight").float()
text = tokenizer.apply_chat_template([{"role": "user", "content": "how are you?"}], tokenize=False, add_generation_prompt=True,
                                     enable_thinking=False)
ids = tokenizer(text, return_tensors="pt")["input_ids"]
causal = AutoModelForCausalLM.from_pretrained(checkpoint, dtype=torch.float32)
with torch.inference_mode():
    classified, scored = model(ids).logits[0], causal(ids).logits[0, -1]
print(json.dumps({"class": type(model).__name__, "score_is_stored_lm_head": bool(torch.equal(model.score.weight, stored)),
                  "largest_difference": (classified - scored).abs().max().item(), "same_top": classified.argmax().item() == scored.argmax().item()}))
"""


def test_001s_call_as_written_builds_the_classifier_c1_and_c2_describe(settings):
    checkpoint = ensure_stand_in("embedded", settings.seed, settings.cache_root).path
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("GENSPEC_", "HF_"))} | {"HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", AS_WRITTEN, str(checkpoint)], check=False, capture_output=True, text=True, env=environment,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["class"] == "Qwen3ForSequenceClassification", seen
    assert seen["score_is_stored_lm_head"], f"001's call left score.weight other than the stored lm_head.weight: {seen}"
    # One pooled row through score against all rows through lm_head: a reshaped float32 product (genspec/run/tolerances.py).
    assert seen["largest_difference"] <= kernel_atol("float32") and seen["same_top"], f"the classifier's scores are not the causal LM's last-position scores: {seen}"
