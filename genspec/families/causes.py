"""Why a red cell of `genspec families` is red: each cause a statement about transformers, of one kind, shown by the lines that
make it so in the installed release.

- DEFECT: transformers contradicts itself (generate() against the model's own forward, a batch against each text alone where
  the family takes a padding mask). Stated only when its counter-patch — the smallest change of those lines, applied in the
  script's process (`counter_patch`) — turns the script's exit 1 into 0; otherwise the cell reads CAUSE_NOT_FOUND, naming
  what was ruled out (genspec/families/findings.py runs them).
- BY_DESIGN: the family is not what the claim speaks of (it attends both ways, is a prefix LM, generates MLM-style).
- RECIPE: the articles' construction does not carry over to the family (001's classifier where the LM head holds more).

A cause's lines are found by their text in the installed transformers, so a release that moves them is followed and one that
drops them says so ("not in this release"): no line number is written here.
"""

import inspect
import sys
from dataclasses import dataclass, field
from pathlib import Path

DEFECT, BY_DESIGN, RECIPE, CAUSE_NOT_FOUND = "defect", "by design", "the articles' recipe", "cause not found"
KINDS = (DEFECT, BY_DESIGN, RECIPE, CAUSE_NOT_FOUND)


@dataclass(frozen=True)
class Line:
    """A line of transformers that makes a cause, found by its text in `owner` (a module, or a module's class or function)."""

    owner: str  # "transformers.models.bart.modeling_bart.BartDecoder", "{modeling}.BartDecoder" for the family's modeling module
    text: str


@dataclass(frozen=True)
class Replacement:
    """One line of a counter-patch: `old` replaced by `new` in the method `owner.method`."""

    owner: str
    method: str
    old: str
    new: str


@dataclass(frozen=True)
class Cause:
    name: str  # the anchor on the findings page
    kind: str
    title: str
    statement: str  # what transformers does; {model} is the family's causal-LM class
    cells: dict  # family -> the claims it explains
    lines: tuple = ()  # the lines that make it so
    counter_patch: dict = field(default_factory=dict)  # family -> its Replacements (a DEFECT's)
    upstream: str = ""  # what transformers' own tracker and tests say of it


ROBERTA_KIN = ("camembert", "data2vec-text", "roberta", "roberta-prelayernorm", "xlm-roberta", "xlm-roberta-xl")
GENERATION_CLAIMS = ("G1", "G2", "G4", "G6", "G8")
MASK_POSITIONS = "(attention_mask.long().cumsum(-1) - 1).clamp(min=0)"  # each row's positions counted over its unpadded tokens
DECODER_ARANGE = "position_ids = torch.arange(seq_length, device=inputs_embeds.device) + cache_length"
ROWS_EMBEDDED = ("position_ids = position_ids.unsqueeze(0)", "position_ids = position_ids.unsqueeze(0) if position_ids.dim() == 1 else position_ids")
# The BART kin's decoders: the class prefix of each family's modeling module, and whether its positional embedding adds a batch
# dimension to the positions it is given (then it must take them per row too).
DECODERS = {"bart": ("Bart", True), "mbart": ("MBart", True), "plbart": ("PLBart", True), "marian": ("Marian", False),
            "pegasus": ("Pegasus", False), "bigbird_pegasus": ("BigBirdPegasus", False), "blenderbot": ("Blenderbot", False),
            "blenderbot-small": ("BlenderbotSmall", False)}
ANY = "*"  # a cause of this claim on every family where it is red
PROPHETNET = "transformers.models.prophetnet.modeling_prophetnet.ProphetNetNgramSelfAttention"


def _decoder_patch(prefix: str, embeds_rows: bool) -> tuple:
    patch = (Replacement(f"{{modeling}}.{prefix}Decoder", "forward", DECODER_ARANGE,
                         f"{DECODER_ARANGE} if attention_mask is None or attention_mask.dim() != 2 else {MASK_POSITIONS}[:, -seq_length:]"),)
    if embeds_rows:
        patch += (Replacement(f"{{modeling}}.{prefix}LearnedPositionalEmbedding", "forward", *ROWS_EMBEDDED),)
    return patch


# Decoders whose positions are made otherwise: MVP's from the column after its mask is made 4-d, TrOCR's learned ones from
# the column, Whisper's from the column where its causal LM passes none.
OTHER_DECODERS = {
    "mvp": (Replacement("{modeling}.MvpDecoder", "forward", "attention_mask = create_causal_mask(",
                        "padding_mask = attention_mask; attention_mask = create_causal_mask("),
            Replacement("{modeling}.MvpDecoder", "forward", "positions = self.embed_positions(input, cache_length)",
                        "positions = self.embed_positions(input, cache_length, position_ids=None if padding_mask is None or padding_mask.dim() "
                        f"!= 2 else {MASK_POSITIONS.replace('attention_mask', 'padding_mask')}[:, -input.shape[1]:])"),
            Replacement("{modeling}.MvpLearnedPositionalEmbedding", "forward", *ROWS_EMBEDDED)),
    "trocr": (Replacement("{modeling}.TrOCRDecoder", "forward", "embed_pos = self.embed_positions(input, cache_length=cache_length)",
                          "embed_pos = self.embed_positions(input, cache_length=cache_length, position_ids=None if attention_mask is None or "
                          f"attention_mask.dim() != 2 else {MASK_POSITIONS}[:, -input.shape[1]:])"),
              Replacement("{modeling}.TrOCRLearnedPositionalEmbedding", "forward", *ROWS_EMBEDDED)),
    "whisper": (Replacement("{modeling}.WhisperDecoder", "forward", "position_ids = position_ids.unsqueeze(0).repeat(inputs_embeds.shape[0], 1)",
                            "position_ids = position_ids.unsqueeze(0).repeat(inputs_embeds.shape[0], 1) if attention_mask is None or "
                            f"attention_mask.dim() != 2 else {MASK_POSITIONS}[:, -inputs_embeds.shape[1]:]"),),
}

CAUSES = (
    Cause(
        "positions-from-zero", DEFECT, "generate() numbers positions from 0 where the model numbers them after its padding id",
        "generate() hands every forward that takes `position_ids` positions counted from 0 (generation/utils.py, in generate()), "
        "while {model}'s own forward, given none, numbers a text from padding_idx + 1, RoBERTa-style "
        "(create_position_ids_from_input_ids): each step of generate() scores its token at another position than the model's "
        "forward over the same text. transformers 4.x's RobertaForCausalLM kept a prepare_inputs_for_generation of its own that "
        "passed no position_ids.",
        {family: GENERATION_CLAIMS for family in ROBERTA_KIN},
        lines=(Line("transformers.generation.utils", 'accepts_position_ids = "position_ids" in set(inspect.signature(self.forward).parameters.keys())'),
               Line("{modeling}", "position_ids = self.create_position_ids_from_input_ids(input_ids, self.padding_idx, cache_length)")),
        counter_patch={family: (Replacement(
            "transformers.generation.utils.GenerationMixin", "generate",
            'accepts_position_ids = "position_ids" in set(inspect.signature(self.forward).parameters.keys())',
            'accepts_position_ids = "position_ids" in set(inspect.signature(self.forward).parameters.keys()) and not hasattr('
            'getattr(self.base_model, "embeddings", None), "create_position_ids_from_input_ids")'),) for family in ROBERTA_KIN},
        upstream=("PR #33870 made positions derived from the attention mask generate()'s default for every forward that takes them; "
                  "PR #35044 once gave XLMRobertaXLForCausalLM its own; no issue is filed. The first release is not bisected here."),
    ),
    Cause(
        "decoder-positions-ignore-padding", DEFECT, "the decoder numbers positions by column, not by the attention mask",
        "{model}'s forward takes no `position_ids`, and its decoder numbers positions `arange(seq_length) + cache_length` whatever "
        "the attention mask says: a left-padded row's tokens sit at other positions than the same text alone, so the batch "
        "generates otherwise. The mask itself works (the padding is not attended).",
        {family: ("G10",) for family in (*DECODERS, *OTHER_DECODERS)},
        counter_patch={**{family: _decoder_patch(*DECODERS[family]) for family in DECODERS}, **OTHER_DECODERS},
        upstream=("transformers' own test_left_padding_compatibility says decoder-only models derived from encoder-decoders are not "
                  "expected to support left padding, and passes position_ids itself; feature request #32937."),
    ),
    Cause(
        "ngram-bias-rows", DEFECT, "ProphetNet's predict-stream position bias is gathered in another row order than its buckets",
        "{model}'s n-gram self-attention computes a relative-position bias from each position's hidden state and gathers it by "
        "bucket (get_predict_relative_pos_embeddings): the bias is permuted to rows ordered batch, position, n-gram stream, head, "
        "while the buckets it is gathered with are repeated in the order n-gram stream, batch, head, position. A position's "
        "scores then read a bias computed from other positions' hidden states — later ones among them — and other rows of the "
        "batch: the prefix moves once tokens follow, a batch row differs from its text alone, and cached generation from the "
        "whole text.",
        {"prophetnet": ("S5", "K1", "K3", "K4", "G4", "G10")},
        lines=(Line(f"{PROPHETNET}", "rel_pos_embeddings = rel_pos_embeddings.permute(0, 2, 1, 4, 3)"),
               Line(f"{PROPHETNET}", "predict_relative_position_buckets = predict_relative_position_buckets.unsqueeze(0)")),
        counter_patch={"prophetnet": (
            Replacement(PROPHETNET, "get_predict_relative_pos_embeddings", "rel_pos_embeddings = rel_pos_embeddings.permute(0, 2, 1, 4, 3)",
                        "rel_pos_embeddings = rel_pos_embeddings.permute(0, 1, 4, 2, 3)"),
            Replacement(PROPHETNET, "get_predict_relative_pos_embeddings",
                        "predict_relative_position_buckets = predict_relative_position_buckets.unsqueeze(0)",
                        "predict_relative_position_buckets = predict_relative_position_buckets.unsqueeze(1)"),
            Replacement(PROPHETNET, "get_predict_relative_pos_embeddings", "self.ngram, 1, self.num_attn_heads, 1",
                        "1, self.ngram, self.num_attn_heads, 1"))},
        upstream=("issue #17455 (\"inconsistent with changing batch ordering\", labelled a bug, closed) came near; no issue names these "
                  "lines."),
    ),
    Cause(
        "attends-both-ways", BY_DESIGN, "XLNet attends both ways",
        "{model} is a permutation language model: its config attends both ways (`attn_type = \"bi\"`), so a token's scores read "
        "the tokens after it.",
        {"xlnet": ("K1", "K3", "K4")},
        lines=(Line("transformers.models.xlnet.configuration_xlnet.XLNetConfig", 'attn_type: str = "bi"'),),
    ),
    Cause(
        "permutation-generation", BY_DESIGN, "XLNet generates with a dummy token and a permutation mask",
        "{model}.prepare_inputs_for_generation re-feeds the whole text plus a dummy token with a permutation mask at every step "
        "(and transformers 5 hands back only `cache`, so `mems` never return): generate() is not the articles' loop over the "
        "model's forward.",
        {"xlnet": ("G1", "G4", "G6", "G8")},
        lines=(Line("transformers.models.xlnet.modeling_xlnet.XLNetLMHeadModel",
                    "dummy_token = torch.zeros((effective_batch_size, 1), dtype=torch.long, device=input_ids.device)"),),
    ),
    Cause(
        "mask-token-generation", BY_DESIGN, "XLM generates MLM-style, appending a mask token",
        "{model}.prepare_inputs_for_generation appends a mask token to the text at every step and scores it: generate() predicts "
        "the masked position, not the next token of the text the loop reads.",
        {"xlm": ("G1", "G2", "G6", "G8")},
        lines=(Line("transformers.models.xlm.modeling_xlm.XLMWithLMHeadModel",
                    "mask_token = torch.full((effective_batch_size, 1), mask_token_id, dtype=torch.long, device=input_ids.device)"),),
    ),
    Cause(
        "prefix-lm", BY_DESIGN, "CPM-Ant is a prefix LM: its context attends both ways",
        "{model} marks every token as context (`context = torch.full(..., 1)`) and lets context tokens attend both ways "
        "(`context[:, None, :] | ...`): a token's scores read the tokens after it, and a cached step cannot see what the whole "
        "text shows.",
        {"cpmant": ("S5", "K1", "K3", "K4", "G4")},
        lines=(Line("transformers.models.cpmant.modeling_cpmant", "context = torch.full((batch, seq_length), 1, dtype=dtype, device=device)"),
               Line("transformers.models.cpmant.modeling_cpmant", "attention_mask = context[:, None, :] | ("),),
    ),
    Cause(
        "whole-text-each-step", BY_DESIGN, "CPM-Ant needs the whole text at every step",
        "The articles' loop feeds the newest token with the state handed back; {model}'s forward prepends its prompt tokens to "
        "whatever it is given and builds its mask over that alone, so one new token against a cache of the whole text does not "
        "fit its mask (the proof's loop asks what the family cannot take).",
        {"cpmant": ("G1", "G2", "G6", "G8")},
        lines=(Line("transformers.models.cpmant.modeling_cpmant", "segment = torch.where(input_ids != 0, 2, 0).to(dtype=dtype, device=device)"),),
    ),
    Cause(
        "reversible-streams", BY_DESIGN, "Reformer's hidden states are two streams side by side",
        "{model} is reversible: its layers carry two residual streams and hand back both, concatenated, so its last hidden state "
        "is 2 × hidden_size wide.",
        {"reformer": ("S1",)},
        lines=(Line("transformers.models.reformer.modeling_reformer", "return torch.cat([attn_output, hidden_states], dim=-1)"),),
    ),
    Cause(
        "no-padding-mask", BY_DESIGN, "RWKV takes no padding mask",
        "{model}'s forward accepts `attention_mask` and ignores it (it warns so): a recurrent state reads every token, padding "
        "included, so a left-padded row is another text.",
        {"rwkv": ("G10",)},
        lines=(Line("transformers.models.rwkv.modeling_rwkv", 'logger.warning_once("`attention_mask` was passed, but it is unused in this model.")'),),
    ),
    Cause(
        "tied-save", RECIPE, "a tied save stores no lm_head.weight",
        "{model} ties its head to the input embedding (`tie_word_embeddings`), so save_pretrained stores no lm_head.weight: 001's "
        "key_mapping has nothing to rename, and its classifier's score would keep its random initialisation (the proof ties it "
        "to the embedding instead, so C2 and C3 still judge it).",
        {ANY: ("C1",)},
        lines=(Line("transformers.modeling_utils.PreTrainedModel", 'tie_word_embeddings = getattr(self.config, "tie_word_embeddings", False)'),),
    ),
    Cause(
        "head-bias", RECIPE, "the LM head adds a bias the classifier's score does not hold",
        "{model}'s head is a Linear with a bias; its sequence-classification model's score is a Linear without one, so 001's "
        "classifier, built from the same weights, scores every token short of the bias.",
        {"gptj": ("C2",), "phi": ("C2",)},
        lines=(Line("{modeling}", "self.lm_head = nn.Linear("),),
    ),
    Cause(
        "logits-scaling", RECIPE, "the LM head divides the hidden state by a scale the classifier does not",
        "{model} divides the last hidden state by `logits_scaling` before its head; its sequence-classification model's score "
        "reads the hidden state unscaled, so 001's classifier scores otherwise.",
        {"minicpm3": ("C2",)},
        lines=(Line("{modeling}", "hidden_states = hidden_states / self.config.logits_scaling"),),
    ),
)


def cause_of(family: str, claim: str) -> Cause | None:
    return next((cause for cause in CAUSES if claim in cause.cells.get(family, ()) + cause.cells.get(ANY, ())), None)


def lines_of(cause: Cause, family: str) -> tuple:
    """The lines that make the cause on `family`: its own, then each line its counter-patch changes there."""
    named = {line.text for line in cause.lines}
    return cause.lines + tuple(Line(each.owner, each.old) for each in cause.counter_patch.get(family, ()) if each.old not in named)


def model_class(family: str):
    """The class AutoModelForCausalLM maps the family to, or None where this transformers has none."""
    import transformers
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    name = MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.get(family)
    return getattr(transformers, name, None) if name else None


def resolved(owner: str, family: str) -> str:
    """`owner` with {modeling} replaced by the family's modeling module."""
    cls = model_class(family)
    return owner.replace("{modeling}", cls.__module__ if cls else "transformers")


def where(line: Line, family: str) -> str | None:
    """"transformers/…/file.py:N" where the line's text is in its owner in the installed transformers, or None."""
    import transformers

    owner = _imported(resolved(line.owner, family))
    if owner is None:
        return None
    try:
        source, start = inspect.getsourcelines(owner)
        path = Path(inspect.getsourcefile(owner))
    except (OSError, TypeError):
        return None
    found = next((number for number, text in enumerate(source, start=start or 1) if line.text in text), None)
    if found is None:
        return None
    root = Path(transformers.__file__).parent.parent
    return f"{path.relative_to(root).as_posix()}:{found}"


def _imported(dotted: str):
    """The module, or the module's attribute, that `dotted` names, or None."""
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            target = getattr(target, name, None)
            if target is None:
                return None
        return target
    return None


def statement(cause: Cause, family: str | None) -> str:
    """The cause in words, of the family's causal-LM class (of "the family's causal LM" where `family` is None)."""
    cls = model_class(family) if family else None
    return cause.statement.replace("{model}", cls.__name__ if cls else "the family's causal LM")


COUNTER_PATCH = '''"""Counter-patch of {family} — {claim}: {title}.

{statement}

The smallest change of transformers that removes the cause, applied in this process, then {script} runs: it exits 0 where
this is the cause (the finding gone under the patch), 1 while the finding holds, 2 where the patch does not apply to this
release (saying why). The change, line by line:

{diff}
"""

import importlib
import inspect
import pathlib
import runpy
import sys
import textwrap

REPLACEMENTS = {replacements!r}  # (owner, method, old, new)


def owner_of(dotted):
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            owner = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            owner = getattr(owner, name)
        return owner
    raise ImportError(dotted)


def replace_in(owner, method, changes):
    """Each (old, new) of `changes` replaced in the source of owner.method, recompiled in its own module: the function's code
    swapped, its decorators and closure kept."""
    function = inspect.unwrap(getattr(owner, method))
    lines = textwrap.dedent(inspect.getsource(function)).splitlines(keepends=True)
    source = "".join(lines[next(i for i, line in enumerate(lines) if line.lstrip().startswith(("def ", "async def "))):])
    for old, new in changes:
        if source.count(old) != 1:
            raise LookupError(f"{{owner.__name__}}.{{method}} holds the line {{source.count(old)}} times, not once: {{old!r}}")
        source = source.replace(old, new)
    free = function.__code__.co_freevars  # super()'s __class__ among them: the new code closes over the same names
    factory = f"def _factory({{', '.join(free)}}):\\n{{textwrap.indent(source, '    ')}}\\n    return {{function.__name__}}\\n"
    namespace = {{}}
    exec(compile(factory, inspect.getsourcefile(function), "exec"), vars(sys.modules[function.__module__]), namespace)
    function.__code__ = namespace["_factory"](*(cell.cell_contents for cell in function.__closure__ or ())).__code__


if __name__ == "__main__":
    try:  # a method's changes together: its source is read once, from transformers' file
        for dotted, method in dict.fromkeys((dotted, method) for dotted, method, _, _ in REPLACEMENTS):
            replace_in(owner_of(dotted), method, [(old, new) for each, name, old, new in REPLACEMENTS if (each, name) == (dotted, method)])
    except Exception as error:
        print(f"the counter-patch does not apply: {{type(error).__name__}}: {{error}}")
        sys.exit(2)
    print(f"counter-patch applied: {{len(REPLACEMENTS)}} line(s) of transformers changed")
    runpy.run_path(str(pathlib.Path(__file__).with_name({script!r})), run_name="__main__")
'''


def counter_patch(family: str, claim: str, script_name: str) -> str | None:
    """The counter-patch script of a DEFECT cell, beside its script (`<script>.counter.py`), or None."""
    cause = cause_of(family, claim)
    if cause is None or cause.kind != DEFECT or family not in cause.counter_patch:
        return None
    replacements = [(resolved(each.owner, family), each.method, each.old, each.new) for each in cause.counter_patch[family]]
    diff = "\n\n".join(f"    in {owner}.{method} ({where(Line(owner, old), family) or 'not in this release'}):\n    - {old}\n    + {new}"
                       for owner, method, old, new in replacements)
    return COUNTER_PATCH.format(family=family, claim=claim, title=cause.title, statement=_wrapped(statement(cause, family)),
                                script=script_name, diff=diff, replacements=replacements)


def _wrapped(text: str, width: int = 120) -> str:
    import textwrap

    return textwrap.fill(text, width)


if __name__ == "__main__":  # pragma: no cover (a maintainer's look at where each cause's lines are in this release)
    for cause in CAUSES:
        for family in cause.cells:
            print(cause.name, family, [where(line, family) for line in lines_of(cause, family)], file=sys.stdout)
