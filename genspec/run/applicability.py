"""Which of the articles' specifics apply to the model under test, and if not, the one line that says why.

Every claim has a general form that holds for any causal LM (shapes from the model's own config,
generation as a loop). The articles' numbers — 28 layers, 311 weights, 1024, 151936, the printed
tree — are Qwen3-0.6B's configuration; their token ids are Qwen3's tokenizer; their chat prompts
need a chat template. On a model without one of these, the tests of that part are *not
applicable*, with the reason, never failed.

One rule gives every verdict that is neither proven nor refuted: a test raises NotApplicable (the model lacks the part the
claim is about) or CannotShow (the model has it, but what it does here cannot decide the claim: a reply that repeats one
token), and `unjudged` turns it into that verdict — or, on the articles' model, which has every part and must show every
claim, into a failure that says why.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from transformers import AutoConfig, AutoModelForSequenceClassification
from transformers.models.auto.modeling_auto import MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING

from genspec.embedded import model_card
from genspec.run.unjudged import CANNOT_SHOW, NOT_APPLICABLE, CannotShow, NotApplicable, Unjudged  # noqa: F401 (the one rule's verdicts, named here too)

ARTICLE_MODEL = "Qwen3-0.6B"
# What the article's printed numbers depend on: the tree, the weight count, every shape.
CONFIGURATION_KEYS = ("model_type", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                      "num_key_value_heads", "head_dim", "hidden_act", "attention_bias", "rms_norm_eps")
SHOWN = 3  # differences named in a reason
# The markers of tests of the articles' own numbers and token ids, as against a claim's general form.
ARTICLE_MARKERS = ("article_config", "article_tokenizer")


def only_values(named) -> bool:
    """A test of value claims alone: all of it is the article's printed numbers."""
    return bool(named) and all(claim.kind == "value" for claim in named)


def is_article_part(item, named) -> bool:
    """Whether a test checks the articles' own numbers or ids rather than a claim's general form."""
    return any(item.get_closest_marker(marker) for marker in ARTICLE_MARKERS) or only_values(named)


@dataclass(frozen=True)
class Applicability:
    """None where the part applies; otherwise why it does not."""

    configuration: str | None  # the article's sizes and printed tree
    tokenizer: str | None  # the article's token ids
    chat_template: str | None  # the articles' chat prompts as chat
    sequence_classifier: str | None = None  # 001's classifier: a `score` head over the last token, from the same checkpoint
    # Where this transformers scores with the embedding although the checkpoint stores another lm_head (4.x, A7 refuted): the
    # model it builds is not the articles' model as stored, so what it cannot show is that model's verdict, not a failure.
    head_tied_over_stored: str | None = None

    @property
    def article_model(self) -> bool:
        """The model has the article's configuration and tokenizer (the embedded default, the real checkpoint, a fine-tune of it):
        it has every part the articles describe, so none of their claims is "not applicable" to it."""
        return self.configuration is None and self.tokenizer is None

    @staticmethod
    def missing_on_the_article_model(reason: str) -> str:
        """The verdict where a part would be not applicable on the articles' model: it has every part, so the claim fails."""
        return (f"{reason}; the articles' model ({ARTICLE_MODEL}'s configuration and tokenizer) has this part: on it nothing is "
                "not applicable, so the claim fails")

    def unjudged(self, verdict: Unjudged) -> str:
        """The one rule: where the claim is not judged, the skip line that says why (its prefix names the verdict); on the
        articles' model, which has every part and must show every claim, the failure line (raises pytest's failure)."""
        if not self.article_model:
            return f"{verdict.prefix}{verdict}"
        if isinstance(verdict, CannotShow) and self.head_tied_over_stored:
            return f"{verdict.prefix}{verdict}; {self.head_tied_over_stored}"
        if isinstance(verdict, CannotShow):
            pytest.fail(f"{verdict}; the articles' model ({ARTICLE_MODEL}'s configuration and tokenizer) must show every claim: "
                        "on it a claim it cannot show fails", pytrace=False)
        pytest.fail(self.missing_on_the_article_model(str(verdict)), pytrace=False)

    @property
    def values(self) -> str | None:
        """The printed values need the article's model: its configuration and its tokenizer."""
        reason = self.configuration or self.tokenizer
        return reason and f"{reason}; the printed values are {ARTICLE_MODEL}'s"


def of(checkpoint: Path, tokenizer) -> Applicability:
    config = json.loads((checkpoint / "config.json").read_text(encoding="utf-8"))
    return Applicability(configuration_differs(config), tokenizer_differs(tokenizer),
                         None if tokenizer.chat_template else "this tokenizer has no chat template: the articles' chat prompts go in as raw text",
                         sequence_classifier_missing(checkpoint))


def sequence_classifier_missing(checkpoint: Path) -> str | None:
    """Why 001's classifier cannot be built from this checkpoint's family, or None: transformers must have a sequence-
    classification class for it that scores with a `score` head (the one 001's key_mapping fills with lm_head.weight)."""
    config = AutoConfig.from_pretrained(checkpoint, trust_remote_code=False)
    family = type(config).__name__.removesuffix("Config")
    if type(config) not in MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING:
        return f"transformers has no sequence-classification model for {family}: 001's classifier cannot be built from this checkpoint"
    try:
        with torch.device("meta"):  # the class and its head, without weights
            classifier = AutoModelForSequenceClassification.from_config(config)
    except (ValueError, TypeError, RuntimeError, AttributeError) as error:
        return f"{family}'s sequence-classification model does not build with this transformers ({error}): 001's classifier cannot be built"
    if not isinstance(getattr(classifier, "score", None), torch.nn.Linear):
        return (f"{type(classifier).__name__} has no `score` head over the last token (it classifies otherwise, e.g. BERT from the "
                "pooled first token): 001's key_mapping of lm_head.weight to score.weight does not apply")
    return None


def configuration_differs(config: dict) -> str | None:
    article = model_card.config()
    if config.get("model_type") != article["model_type"]:
        architecture = ", ".join(config.get("architectures") or [config.get("model_type", "?")])
        return f"this model is a {architecture}; the article's numbers are {ARTICLE_MODEL}'s ({', '.join(article['architectures'])})"
    differing = [key for key in CONFIGURATION_KEYS if config.get(key) != article[key]]
    if not differing:
        return None
    shown = differing[:SHOWN]
    return (f"this model has {', '.join(f'{key}={config.get(key)}' for key in shown)}; the article's numbers are "
            f"{ARTICLE_MODEL}'s ({', '.join(f'{key}={article[key]}' for key in shown)})"
            + (f" and {len(differing) - SHOWN} more differences" if len(differing) > SHOWN else ""))


def tokenizer_differs(tokenizer) -> str | None:
    article = {token["content"]: token["id"] for token in model_card.added_tokens()}
    added = tokenizer.get_added_vocab()
    ordinary = model_card.added_tokens()[0]["id"]  # the BPE ranks end where the added tokens begin
    if tokenizer.vocab_size == ordinary and added == article:
        return None
    return (f"this tokenizer is not Qwen3's: {len(tokenizer)} tokens, {len(added)} added; the article's ids are Qwen3's "
            f"({ordinary + len(article)} tokens, {len(article)} added: <|im_start|>, <think>, …)")
