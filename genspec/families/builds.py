"""A tiny checkpoint of any family that transformers maps to a causal LM, for the claims × families matrix (`genspec families`).

Each is the family's own config with small sizes — 4 layers (so a hybrid's pattern of attention and recurrent layers holds
both), 64 wide, 4 heads — built by transformers from that config, with the random weights of unit gain the other tiny
families have (families.randomized: varied continuations, not one token repeated), Qwen3's tokenizer (the stand-in's) and
its vocabulary, saved as a user saves a checkpoint (save_pretrained, safetensors). The sizes are passed to the config's own
constructor, under whichever names the family uses, so that what it derives from them (layer patterns, head sizes) follows.
What the generic sizes miss is in FAMILY_SETTINGS, each with its reason. A family that cannot be built tiny says why in one
line (CannotBuild): too large still, a multimodal model whose text model is a row of its own, a config that will not build.
"""

import hashlib
import inspect
import json
import math
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, GenerationConfig
from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

from genspec.embedded import model_card
from genspec.embedded.small_models import BIAS_STD, FREQUENT_GAIN, FREQUENT_RANKS, IM_END, MLP_GAIN, MLP_OUT, NORM_SPREAD
from genspec.embedded.tokenizer import build_tokenizer, preloaded
from genspec.embedded.unusual import HYBRID_SETTINGS
from genspec.run.tolerances import KERNEL_ATOL

VOCAB = model_card.config()["vocab_size"]  # Qwen3's 151,936 rows: its tokenizer's ids all embedded
END_OF_TEXT = 151643
# The generic small sizes, under every name families give them; a family takes those its config knows.
SMALL = {
    "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
    "max_position_embeddings": 512, "vocab_size": VOCAB,
    "n_embd": 64, "n_layer": 4, "n_head": 4, "n_positions": 512, "n_inner": 128, "n_ctx": 512,  # GPT-2 and its kin
    "d_model": 64, "num_layers": 4, "ffn_dim": 128, "decoder_layers": 4, "decoder_attention_heads": 4, "decoder_ffn_dim": 128,
    "encoder_layers": 4, "encoder_attention_heads": 4, "encoder_ffn_dim": 128,  # encoder-decoders, whose decoder is the causal LM
    "rotary_dim": 16,  # GPT-J, CodeGen: rotary embedding over the whole head
    # mixtures of experts: few and small
    "moe_intermediate_size": 32, "num_experts": 4, "num_local_experts": 4, "n_routed_experts": 4, "num_experts_per_tok": 2,
    "shared_expert_intermediate_size": 32, "n_group": 1, "topk_group": 1,  # expert groups: at least one expert each
    # multi-head latent attention (DeepSeek-V2/V3 and their kin): query and key heads of rope and no-rope halves
    "kv_lora_rank": 16, "q_lora_rank": 16, "qk_rope_head_dim": 8, "qk_nope_head_dim": 8, "v_head_dim": 16,
    "index_head_dim": 16, "index_n_heads": 4,  # the sparse-attention indexer (DeepSeek-V3.2 and its kin): its heads hold a rope half too
    "is_decoder": True,  # an encoder family loaded as a causal LM attends causally only as a decoder (BertLMHeadModel says so)
    "bos_token_id": END_OF_TEXT, "eos_token_id": END_OF_TEXT,
}
MAMBA_SMALL = {"mamba_n_heads": 8, "mamba_d_head": 16, "mamba_d_state": 8, "mamba_n_groups": 1, "mamba_chunk_size": 16}
LINEAR_SMALL = {"linear_head_dim": 16, "linear_num_heads": 4}
# What the generic sizes miss, per family (model_type), and why.
FAMILY_SETTINGS = {
    **HYBRID_SETTINGS,  # the hybrids genspec's tool tests already build: their patterns of attention and recurrent layers
    "gpt_neo": {"attention_types": [[["global", "local"], 2]]},  # one entry per pair of layers
    "mamba2": {"num_heads": 8, "head_dim": 16, "n_groups": 1, "state_size": 8, "chunk_size": 16},  # heads × head_dim = 2 × hidden
    "rembert": {"input_embedding_size": 64, "output_embedding_size": 64},  # its own embedding widths
    "xlm": {"causal": True},  # attends both ways unless configured causal, as its language-model use is
    # its sparse layers' indexer scores keys with the first query heads of key head 0: at most 4 / 2 of them at the small sizes
    "kolibri1_1": {"index_num_heads": 2, "mlp_only_intermediate_size": 128},
    "reformer": {"axial_pos_embds": False},
    # input, recurrent and output sections (config.json counts attention and MLP blocks apart, twice these): the recurrent
    # section is what the other two leave of num_hidden_layers, so all three are scaled down together, 2 layers each
    "dory": {"num_hidden_layers": 6, "n_input_layers": 2, "n_output_layers": 2},  # its axial position factors must multiply to the sequence length: plain positions
    # hybrids whose default pattern puts no attention layer among the first 4 (transformers' cache then refuses to count
    # tokens): one of each kind, alternating, and their recurrent widths at the small sizes
    "bamba": {"attn_layer_indices": [1, 3], **MAMBA_SMALL},
    "granitemoehybrid": {"layer_types": ["mamba", "attention"] * 2, **MAMBA_SMALL},
    "kimi_linear": {"layer_types": ["linear_attention", "full_attention"] * 2, "mlp_layer_types": ["dense", "sparse"] * 2, **LINEAR_SMALL},
    "bailing_hybrid": {"layer_types": ["linear_attention", "full_attention"] * 2, "mlp_layer_types": ["dense", "sparse"] * 2,
                       "layer_group_size": 2, **LINEAR_SMALL},
    "lfm2_moe": {"layer_types": ["conv", "full_attention"] * 2, "num_dense_layers": 1},
}
# Weights that vary: at unit gain a freshly drawn tiny model often repeats (measured: 50 of 146 families within 6 greedy
# steps), its residual stream led by the current token's embedding, so that a tied head scores that token again and an untied
# one maps each token to one fixed successor. Tried in order, until the probe's replies vary: the embedding at a tenth of
# unit gain (the layers' context-dependent outputs lead); the layers' matrices at twice unit gain as well (where the family
# normalises the embedding or scales it up by √width, as BLOOM and XGLM do); unit gain; then the layers at four times unit
# gain (post-norm and soft-capped families: BART, CTRL, Gemma 2 vary only there — measured, 0–3 distinct tokens short of
# G1's 10 against 4–12 at twice); then other seeds. A recipe whose float32 scores float64 does not confirm is refused.
SEED_SHIFTS = (0, 1, 2)
GAINS = ((0.1, 1.0), (0.1, 2.0), (1.0, 1.0), (1.0, 2.0), (0.1, 4.0), (0.03, 4.0), (1.0, 4.0))  # (embedding, layers)
RECIPES = [{"embedding_gain": embedding, "layer_gain": layer, "seed_shift": shift} for shift in SEED_SHIFTS for embedding, layer in GAINS]
LAYER = re.compile(r"\.(layers?|h|blocks?)\.\d+\.")
# What the claims need of a reply, asked by the probe: G1's greedy loop on each chat prompt, stopped at an eos as the loop
# stops, at least min(10, half its length) distinct tokens (spec/test_generation.py: G1_STEPS, assert_varied).
PROBE = {"how are you?": 32, "Why are you running?": 8}
VARIED, VARIED_SHARE = 10, 2
# A build is a model its family could have only if it computes what exact arithmetic does: float32 and float64 scores of one
# forward pass over each probe's prompt and reply agree within the proof's float32 kernel tolerance (tolerances.py). A build
# whose scores float32 rounding moves by more amplifies rounding (Dory with its scales at 1 instead of their init: by 0.29).
CONDITIONING_ATOL = KERNEL_ATOL["float32"]
MANIFEST = "tiny.json"
# Families that tell padding from text by an id their config does not name: CPM-Ant by id 0 alone (modeling_cpmant.py,
# `segment = torch.where(input_ids != 0, 2, 0)`; its tokenizer's <pad> is 0).
OWN_PADS = {"cpmant": 0}
LARGEST = 60_000_000  # parameters: a tiny family is Qwen3's vocabulary twice (embedding, head) at width 64, and little more


class CannotBuild(Exception):
    """Why `model_type` has no tiny checkpoint here: one line for its row."""


def model_types() -> list[str]:
    """Every family this transformers maps to a causal LM."""
    return sorted(MODEL_FOR_CAUSAL_LM_MAPPING_NAMES)


def tiny_config(model_type: str):
    try:
        default = AutoConfig.for_model(model_type)
    except Exception as error:  # noqa: BLE001 (any family's config may refuse; the row says how)
        raise CannotBuild(f"its config does not build with defaults ({_first_line(error)})") from None
    text = _text_model_type(default)
    if text:
        row = "a row of its own" if text in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES else "which transformers maps to no causal LM: no row judges it"
        raise CannotBuild(f"a multimodal model: its text model is {text}, {row}")
    known = set(default.to_dict()) | set(getattr(default, "attribute_map", {}))
    settings = {name: value for name, value in SMALL.items() if name in known} | FAMILY_SETTINGS.get(model_type, {})
    if "qk_rope_head_dim" in known:  # multi-head latent attention: head_dim names the rope half; a key head per query head
        latent = {"head_dim": SMALL["qk_rope_head_dim"], "num_key_value_heads": SMALL["num_attention_heads"]}
        settings |= {name: value for name, value in latent.items() if name in known}
    if (getattr(default, "pad_token_id", None) or 0) >= VOCAB:  # a pad id past Qwen3's vocabulary: its end of text
        settings["pad_token_id"] = END_OF_TEXT
    try:
        config = AutoConfig.for_model(model_type, **settings)
    except Exception as error:  # noqa: BLE001
        raise CannotBuild(f"its config refuses the small sizes ({_first_line(error)})") from None
    incoherent = incoherence(config)
    if incoherent:  # transformers builds it without complaint, but no checkpoint of the family could be this model
        raise CannotBuild(f"its structure does not scale to the small sizes: {incoherent}")
    return config


# A count of the model's structure: layers of a section or kind, heads, experts, groups, widths. Never negative in a model;
# a config that derives one from others (Dory's recurrent section: the layers left after its input and output sections) can.
COUNT = re.compile(r"^(n|num)_|_(layers|heads|experts|groups|size|dim)$")


def incoherence(config) -> str | None:
    """Why `config` is no model its family could have — a structural count it derived below zero, a per-layer pattern that does
    not cover its layers — or None."""
    settings = config.to_dict()
    negative = {name: value for name, value in settings.items() if COUNT.search(name) and isinstance(value, int)
                and not isinstance(value, bool) and value < 0}
    if negative:
        return ", ".join(f"{name} = {value}" for name, value in negative.items()) + " derived from the others"
    layers, pattern = settings.get("num_hidden_layers"), settings.get("layer_types")
    if isinstance(layers, int) and isinstance(pattern, list) and len(pattern) != layers:
        return f"layer_types names {len(pattern)} layers, num_hidden_layers is {layers}"
    return None


def write_tiny(model_type: str, directory: Path, seed: int = 0, tokenizer_files: Path | None = None) -> Path:
    """A tiny checkpoint of `model_type` in `directory` (which must not exist), or CannotBuild with the reason.
    `tokenizer_files`: a directory that already holds the stand-in's tokenizer (built once for many families), copied.

    The weights: the first of RECIPES (seeds `seed` + SEED_SHIFTS) whose build is admissible (float32 as float64) and whose
    greedy replies vary as the claims need; else the most varied admissible one. The manifest (tiny.json) names the recipe,
    what the probe saw, the build's conditioning and its weights' hash."""
    config = tiny_config(model_type)
    try:
        with torch.device("meta"):  # its size first, without memory
            parameters = sum(parameter.numel() for parameter in AutoModelForCausalLM.from_config(config).parameters())
        if parameters > LARGEST:
            raise CannotBuild(f"{parameters:,} parameters at the small sizes, more than {LARGEST:,}: a size the generic settings miss")
        if tokenizer_files:
            shutil.copytree(tokenizer_files, directory)
        else:
            build_tokenizer(directory)
        tokenizer = preloaded(directory) or AutoTokenizer.from_pretrained(directory)
        pad = pads_with(model_type, config, tokenizer, directory)
        prompts = {text: tokenizer(tokenizer.apply_chat_template([{"role": "user", "content": text}], tokenize=False, add_generation_prompt=True,
                                                                 enable_thinking=False), return_tensors="pt")["input_ids"] for text in PROBE}
        tried = []
        for recipe in RECIPES:
            model = built(config, recipe, seed)
            replies = {text: greedy_reply(model, prompt, PROBE[text]) for text, prompt in prompts.items()}
            tried.append(Build(recipe, model, replies, shortfall(replies)))
            if tried[-1].missing == 0 and admissible(tried[-1].drift(prompts)):
                break
        # the most varied admissible build: the drift asked in order of variety, so that few float64 passes are made
        chosen = next((each for each in sorted(tried, key=lambda each: each.missing) if admissible(each.drift(prompts))), None)
        if chosen is None:
            least = min(tried, key=lambda each: each.measured)  # all numbers here: a family that cannot compute float64 is admissible
            raise CannotBuild(f"no build computes in float32 what it computes in float64: every recipe's scores differ by more than the "
                              f"kernel tolerance {CONDITIONING_ATOL:g} (least: {least.measured:.3g}, recipe {least.recipe})")
        recipe, model, replies, missing, drift = chosen.recipe, chosen.model, chosen.replies, chosen.missing, chosen.measured
        model.generation_config = GenerationConfig(bos_token_id=END_OF_TEXT, eos_token_id=[IM_END, END_OF_TEXT])
        model.save_pretrained(directory, safe_serialization=True)
        (directory / MANIFEST).write_text(json.dumps({
            "model_type": model_type, "seed": seed, "recipe": recipe, "parameters": parameters,
            "seeds tried": sorted({seed + each.recipe["seed_shift"] for each in tried}),
            "greedy replies": replies, "distinct tokens short of what G1 asks": missing,
            "float32 against float64": ({"largest score difference": drift, "tolerance": CONDITIONING_ATOL} if not isinstance(drift, str)
                                        else {"not measured": drift}),
            "pad id": pad, "weights sha256": weights_sha256(directory)}), encoding="utf-8")
    except CannotBuild:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    except Exception as error:  # noqa: BLE001 (whatever a family's code raises, the row says it)
        shutil.rmtree(directory, ignore_errors=True)
        raise CannotBuild(f"does not build tiny ({type(error).__name__}: {_first_line(error)})") from None
    return directory


def pads_with(model_type: str, config, tokenizer, directory: Path) -> int:
    """The id the checkpoint's tokenizer pads with: the family's own pad id where it has one in the vocabulary (its config's, or
    OWN_PADS'), else the stand-in's <|endoftext|>. Written into the checkpoint's tokenizer_config."""
    own = OWN_PADS.get(model_type, getattr(config, "pad_token_id", None))
    if not isinstance(own, int) or isinstance(own, bool) or not 0 <= own < VOCAB or own == tokenizer.pad_token_id:
        return tokenizer.pad_token_id
    saved = directory / "tokenizer_config.json"
    settings = json.loads(saved.read_text(encoding="utf-8"))
    saved.write_text(json.dumps(settings | {"pad_token": tokenizer.convert_ids_to_tokens(own)}, indent=2, ensure_ascii=False), encoding="utf-8")
    return own


def built(config, recipe: dict, seed: int):
    """The family's model from `config`, initialized by its own code under the recipe's seed (some families draw parts of their
    init, Mamba's dt_bias among them), then weighted: a build is a function of its config, recipe and seed alone."""
    torch.manual_seed(seed + recipe["seed_shift"])
    return weighted(AutoModelForCausalLM.from_config(config), recipe, seed).eval()  # from_config leaves dropout on: the probe reads as the proof


def weighted(model, recipe: dict, seed: int):
    """`model` as its family initialized it (from_config runs the family's own _init_weights, as transformers' tests build their
    small models), with the variety the claims need added relative to that: each matrix drawn at unit gain (times the recipe's
    layer gain inside the layers, MLP_GAIN where an MLP writes into the residual stream), the embedding at the recipe's gain, and
    every other parameter spread around its family's value — a scale stays a scale, a decay a decay, a zero offset near zero."""
    generator = torch.Generator().manual_seed(seed + recipe["seed_shift"])
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            noise = torch.randn(parameter.shape, generator=generator)
            if parameter.ndim == 2 or (parameter.ndim == 3 and "experts" in name):
                gain = (MLP_GAIN if MLP_OUT.search(name) else 1.0) * (recipe["layer_gain"] if LAYER.search(name) else 1.0)
                parameter.copy_(noise / parameter.shape[-1] ** 0.5 * gain)
                continue
            own = parameter.detach().float()
            if not torch.isfinite(own).all():  # left uninitialized by the family: no value to keep, a spread around one
                own = torch.ones_like(own)
            parameter.copy_(torch.where(own == 0, noise * BIAS_STD, own * torch.exp(noise * NORM_SPREAD)))
        model.get_input_embeddings().weight *= recipe["embedding_gain"]
        # Frequent pieces (the lowest BPE ranks) score high in many contexts, as in the stand-in (weights.py): the prompt's own
        # tokens then rank in the top-k, where a repetition penalty acts (G7).
        head = model.get_output_embeddings().weight
        head *= (1 + FREQUENT_GAIN * torch.exp(-torch.arange(head.shape[0], dtype=head.dtype) / FREQUENT_RANKS))[:, None]
    return model


def greedy_reply(model, prompt: torch.Tensor, steps: int) -> list[int]:
    """`steps` greedy tokens, the whole text read each step (any causal LM can), ended at an eos as the proof's loops end."""
    ids = prompt
    # only the last position's scores choose: where the forward can, the head skips the others (most of a tiny model's work)
    last = {"logits_to_keep": 1} if "logits_to_keep" in inspect.signature(model.forward).parameters else {}
    with torch.inference_mode():
        for _ in range(steps):
            ids = torch.cat([ids, model(ids, **last).logits[:, -1:].argmax(dim=-1)], dim=-1)
            if ids[0, -1].item() in (IM_END, END_OF_TEXT):
                break
    return ids[0, prompt.shape[1]:].tolist()


def shortfall(replies: dict[str, list[int]]) -> int:
    """How many distinct tokens the replies lack of what G1 asks of each (0: the claims can be shown on this build)."""
    return sum(max(0, min(VARIED, len(reply) // VARIED_SHARE) - len(set(reply))) for reply in replies.values())


@dataclass
class Build:
    """A recipe write_tiny tried: its model, the probe's replies, how many distinct tokens they lack of what G1 asks, and its
    float32 drift, measured only when the build may be taken."""

    recipe: dict
    model: object
    replies: dict
    missing: int
    measured: float | str | None = None

    def drift(self, prompts: dict) -> float | str:
        """float32_drift on each probe's prompt and reply, measured once."""
        if self.measured is None:
            self.measured = float32_drift(self.model, [torch.cat([prompt, torch.tensor([self.replies[text]], dtype=prompt.dtype)], dim=1)
                                                       for text, prompt in prompts.items()])
        return self.measured


def float32_drift(model, sequences: list[torch.Tensor]) -> float | str:
    """The largest difference between the float32 and the float64 scores of one forward pass over each sequence, or why the
    family cannot compute in float64 (XGLM fills its mask with float64's minimum as a float32 tensor, which overflows). float64
    is computed as the arbiter computes it: the build saved, and loaded by the proof's own loader in float64."""
    from genspec.run.loading import load_pretrained

    with tempfile.TemporaryDirectory(prefix="genspec-gate-") as folder:
        model.save_pretrained(folder, safe_serialization=True)
        try:
            exact, _ = load_pretrained(AutoModelForCausalLM, Path(folder), "float64", "cpu")
            with torch.inference_mode():
                drift = max((model(ids).logits.double() - exact(ids).logits).abs().max().item() for ids in sequences)
        except Exception as error:  # noqa: BLE001 (whatever the family's float64 path raises, it is the reason)
            return f"it does not compute in float64 ({type(error).__name__}: {_first_line(error)[:200]})"
    if not math.isfinite(drift):
        return f"its float64 scores are not finite (the largest difference from float32's reads {drift})"
    return drift


def admissible(drift: float | str) -> bool:
    """float32 as float64 within the kernel tolerance; a family that cannot compute in float64 cannot be told otherwise, and is
    built (its red cells then say float64 could not judge them)."""
    return isinstance(drift, str) or drift <= CONDITIONING_ATOL


def weights_sha256(directory: Path) -> str:
    """One hash of every safetensors file a build wrote, in name order: two builds with equal hashes are the same weights."""
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.safetensors")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _text_model_type(config) -> str | None:
    """The model_type of a multimodal config's text model, where that is a family of its own."""
    text = getattr(config, "text_config", None)
    text_type = getattr(text, "model_type", None)
    return text_type if text_type and text_type != config.model_type else None


def _first_line(error: Exception) -> str:
    """The error's message in one line: every line of it joined (a validator's reason comes on the line after its name)."""
    text = " ".join(line.strip() for line in str(error).strip().splitlines() if line.strip())
    return (text or type(error).__name__)[:400]
