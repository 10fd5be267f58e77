"""mvp — G10: batched generation with left padding gives, row by row, what each prompt gives alone

Red in `genspec families` on transformers 5.25.0: batch row 0 and how-are-you-chat alone part at step 0 after 0 equal steps: batch row 0 chose 109, how-are-you-chat alone 12; margins 0.2626 and 0.7445, more than the near-tie bound 0.0005: not rounding. batch row 0: [109, 5, 109], how-are-you-chat alone: [12, 0, 46]; why: one forward pass over row 0, 1 padding tokens on its left marked 0 in the attention mask, already scores its next token otherwise than the prompt alone (by up to 0.6, where kernel paths move a score by at most 0.0005): MvpForCausalLM reads the padding the mask marks

Reproduces it with torch and transformers alone: the family's tiny config and the tiny checkpoint's weights (seed 0),
its generation config, the token ids the proof used, and the two computations the claim compares, in float32 and in float64
(the arbiter of rounding). Exits 1 while the finding holds (in float32, and in float64 where float64 can judge: it says when
it cannot), 0 once a release removes it (or float64 shows it was rounding), 2 when the script itself cannot run or its
scores cannot judge the claim, saying why.
"""

import copy
import hashlib
import inspect
import json
import pathlib
import re
import sys
import tempfile
import traceback

try:  # a missing or broken package is no finding: exit 2, saying what
    import torch
    import transformers
    from safetensors import safe_open
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, GenerationConfig
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING
except Exception as error:
    print(f"could not run: {type(error).__name__}: {error}")
    sys.exit(2)

MODEL_TYPE = 'mvp'
CONFIG_JSON = '{"activation_dropout": 0.0, "activation_function": "gelu", "attention_dropout": 0.0, "bos_token_id": 151643, "classifier_dropout": 0.0, "d_model": 64, "decoder_attention_heads": 4, "decoder_ffn_dim": 128, "decoder_layerdrop": 0.0, "decoder_layers": 4, "decoder_start_token_id": 2, "dropout": 0.1, "encoder_attention_heads": 4, "encoder_ffn_dim": 128, "encoder_layerdrop": 0.0, "encoder_layers": 4, "eos_token_id": 151643, "init_std": 0.02, "is_decoder": true, "is_encoder_decoder": false, "max_position_embeddings": 512, "pad_token_id": 1, "prompt_length": 100, "prompt_mid_dim": 800, "scale_embedding": false, "tie_word_embeddings": true, "use_cache": true, "use_prompt": false, "vocab_size": 151936}'  # config.json of the tiny checkpoint, read as from_pretrained reads it (in main)
GENERATION_JSON = '{"bos_token_id": 151643, "eos_token_id": [151645, 151643]}'  # its generation_config.json: the eos ids generate() is told, as the proof's load tells it
SEED, EMBEDDING_GAIN, LAYER_GAIN = 0, 0.1, 4.0
PROMPT = torch.tensor([[151644, 872, 198, 5158, 525, 498, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271]])  # the articles' how-are-you chat, in Qwen3's token ids
PROMPTS = [[151644, 872, 198, 5158, 525, 498, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271], [151644, 872, 198, 10234, 525, 498, 4303, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271]]  # and why-are-you-running, the batch's other row
OTHER = torch.tensor([[151644, 872, 198, 10234, 525, 498, 4303, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271]])  # why-are-you-running, the prompt the proof samples on
TEXTS = [[13048, 5562, 1246, 525, 498, 30], [9707, 5562], [5158, 525, 498, 30]]  # "Hi dog how are you?", "Hello dog", "how are you?": the batch of S5 and C2
CHECKPOINT_EOS = [151643, 151645]  # the eos ids the tiny checkpoint's generation config names
PREFIX, LATER = torch.tensor([[13048, 5562]]), torch.tensor([[1246, 525, 498, 30]])  # "Hi dog", then " how are you?"
PAD, STEPS = 1, 6
# the proof's kernel tolerance, per dtype (genspec's tolerances.py): a difference within it is the order kernels sum in
TOLERANCE = {'float32': 0.0005, 'float64': 1e-12}
CHECKPOINT_SHA256 = '2a54d875d7b35a314e7009351a5b6363e24490566c7c41eb01281364ce8fde3d'  # the tiny checkpoint's weights, as genspec built them

def built(config, seed, embedding_gain, layer_gain):
    """The tiny checkpoint's weights: the family's own initialization under the seed, then each matrix drawn at unit gain, every
    other parameter spread around its family's value (a zero one near zero), and the recipe's gains."""
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            noise = torch.randn(parameter.shape, generator=generator)
            if parameter.ndim == 2 or (parameter.ndim == 3 and "experts" in name):
                gain = (4.0 if re.search('mlp(_block)?\\.(down_proj|c_proj)\\.weight$', name) else 1.0) * (layer_gain if re.search('\\.(layers?|h|blocks?)\\.\\d+\\.', name) else 1.0)
                parameter.copy_(noise / parameter.shape[-1] ** 0.5 * gain)
                continue
            own = parameter.detach().float()
            if not torch.isfinite(own).all():
                own = torch.ones_like(own)
            parameter.copy_(torch.where(own == 0, noise * 0.02, own * torch.exp(noise * 0.3)))
        model.get_input_embeddings().weight *= embedding_gain
        head = model.get_output_embeddings().weight
        head *= (1 + 2.0 * torch.exp(-torch.arange(head.shape[0], dtype=head.dtype) / 300))[:, None]
    return model.eval()


def finding(model, tolerance):
    """Each prompt's greedy reply in a left-padded batch against the prompt alone."""
    width = max(len(prompt) for prompt in PROMPTS)
    ids = torch.tensor([[PAD] * (width - len(prompt)) + prompt for prompt in PROMPTS])
    mask = torch.tensor([[0] * (width - len(prompt)) + [1] * len(prompt) for prompt in PROMPTS])
    differs = False
    with torch.no_grad():
        batched = model.generate(ids, attention_mask=mask, do_sample=False, max_new_tokens=STEPS, pad_token_id=PAD)[:, width:].tolist()
        for row, prompt in enumerate(PROMPTS):
            alone = torch.tensor([prompt])
            single = model.generate(alone, attention_mask=torch.ones_like(alone), do_sample=False, max_new_tokens=STEPS, pad_token_id=PAD)
            single = single[0, len(prompt):].tolist()
            print(f"row {row} in the batch: {batched[row]}\nrow {row} alone:        {single}")
            differs |= batched[row][: len(single)] != single
    return differs


def weights_sha256(model):
    """The hash genspec's tiny.json gives a build: every safetensors file save_pretrained writes, in name order."""
    digest = hashlib.sha256()
    with tempfile.TemporaryDirectory() as folder:
        model.save_pretrained(folder)
        for path in sorted(pathlib.Path(folder).glob("*.safetensors")):
            digest.update(path.read_bytes())
    return digest.hexdigest()


def in_float64(model):
    """The model as the arbiter computes it: float64, a mixture of experts through the eager loop (grouped_mm has no float64)."""
    exact = copy.deepcopy(model).double()
    if getattr(exact.config, "_experts_implementation", None) not in (None, "eager") and hasattr(exact, "set_experts_implementation"):
        exact.set_experts_implementation("eager")
    return exact


if __name__ == "__main__":
    print(f"{MODEL_TYPE} on transformers {transformers.__version__}, torch {torch.__version__}")
    try:  # anything the script itself cannot do is no finding: exit 2, saying what
        if MODEL_TYPE not in CONFIG_MAPPING:
            raise LookupError(f"transformers {transformers.__version__} has no family {MODEL_TYPE!r}")
        model = built(CONFIG_MAPPING[MODEL_TYPE].from_dict(json.loads(CONFIG_JSON)), SEED, EMBEDDING_GAIN, LAYER_GAIN)
        model.generation_config = GenerationConfig.from_dict(json.loads(GENERATION_JSON))
        sha256 = weights_sha256(model)
        print(f"weights sha256 {sha256[:12]}: " + ("the tiny checkpoint's" if sha256 == CHECKPOINT_SHA256 else
              f"not the tiny checkpoint's ({CHECKPOINT_SHA256[:12]}): this release initializes the family otherwise"))
        print("in float32:")
        holds = finding(model, TOLERANCE["float32"])
    except Exception as error:
        print(f"could not run: {type(error).__name__}: {error}")
        sys.exit(2)
    try:  # float64 is the arbiter: a difference float32 rounding made is gone there
        print("in float64, the arbiter of rounding:")
        exact = finding(in_float64(model), TOLERANCE["float64"])
    except Exception as error:
        print(f"float64 cannot judge ({type(error).__name__}: {error}): unarbitrated, the float32 verdict stands")
        exact = holds
    if holds and not exact:
        print("float32 rounding: the finding is gone in float64")
    holds = holds and exact
    print("the finding holds" if holds else "the finding is gone on this release")
    sys.exit(1 if holds else 0)
