"""The proof's pytest wiring: the model the options choose, the markers, and the session fixtures.

Switched on by the checkout's root conftest.py; the options themselves come from genspec.plugin.
"""

from typing import NamedTuple

import pytest
import tokenizers
import torch
import transformers
from transformers import AutoModelForCausalLM

from genspec.classification import head_replaced_by_tying
from genspec.reports.snapshots import ObservationExtension, identity_directory
from genspec.run import applicability, claims, model_source, options, printed
from genspec.run.loading import load_pretrained, load_tokenizer, transformers_messages
from genspec.run.platform import recording_key
from genspec.run.tolerances import snapshot_tolerance

pytest_plugins = ["genspec.reports.proof_report", "genspec.run.parallel"]

SOURCE_KEY, SETTINGS_KEY = options.SOURCE_KEY, options.SETTINGS_KEY
APPLICABILITY_KEY = pytest.StashKey[applicability.Applicability]()
TOKENIZER_KEY = pytest.StashKey[object]()  # loaded once, at configure: applicability reads it, the tests use it
# marker -> the part of the articles it needs (an Applicability field)
NEEDS = {"article_config": "configuration", "article_tokenizer": "tokenizer", "chat_template": "chat_template"}


def pytest_configure(config):
    config.addinivalue_line("markers", "claim(*ids): the catalogue claims this test proves")
    config.addinivalue_line("markers", "article_config: asserts the sizes the articles print for Qwen3-0.6B (its configuration)")
    config.addinivalue_line("markers", "article_tokenizer: asserts the token ids the articles print (Qwen3's tokenizer)")
    config.addinivalue_line("markers", "chat_template: formats the articles' prompts as chat (needs the tokenizer's chat template)")
    config.addinivalue_line("markers", "classifier_against_causal_lm: compares 001's classifier with the causal LM")
    if config.option.help:
        return
    settings = options.resolve(config)
    if config.option.update_snapshots and getattr(config.option, "numprocesses", None):
        raise pytest.UsageError("--snapshot-update with -n: each worker sees only its share of the tests and would drop the "
                                "others' snapshots as unused; record them without -n.")
    try:
        source = model_source.resolve(settings.model, settings.seed, settings.cache_root)
    except model_source.ModelSourceError as error:
        raise pytest.UsageError(str(error)) from None
    config.stash[SETTINGS_KEY] = settings
    config.stash[SOURCE_KEY] = source
    try:
        tokenizer = load_tokenizer(source.path)
    except (OSError, ValueError) as error:
        raise pytest.UsageError(f"--model {settings.model}: its tokenizer does not load with transformers {transformers.__version__} "
                                f"({error}). Check the tokenizer files in {source.path}.") from None
    config.stash[TOKENIZER_KEY] = tokenizer
    config.stash[APPLICABILITY_KEY] = applicability.of(source.path, tokenizer)


def pytest_report_header(config):
    settings, source = config.stash[SETTINGS_KEY], config.stash[SOURCE_KEY]
    lines = [
        f"genspec model: {source.requested} -> {source.identity} ({source.path})"
        + (f", weights sha256 {source.weights_sha256[:12]}" if source.weights_sha256 else ""),
        (f"genspec dtype: {settings.dtype}, device: {settings.device}; torch {torch.__version__}, "
         f"transformers {transformers.__version__}, tokenizers {tokenizers.__version__}"),
    ]
    if source.unavailable:
        lines.append(f"genspec: {source.unavailable}; structural and tokenizer claims run on the stand-in")
    applies = config.stash[APPLICABILITY_KEY]
    for part in dict.fromkeys((applies.configuration, applies.tokenizer, applies.chat_template)):
        if part:
            lines.append(f"genspec: {part}; claims are proven in their general form")
    snapshots = identity_directory(source.identity, settings.dtype)
    if settings.snapshots == "report":
        lines.append("genspec snapshots: observations go to the claims report only (--snapshots report)")
    elif snapshots.exists() or config.option.update_snapshots:
        lines.append(f"genspec snapshots: {snapshots.relative_to(snapshots.parents[3])}")
    else:
        lines.append(f"genspec snapshots: none recorded for {source.identity} in {settings.dtype}; "
                     "observations are reported, not compared (--snapshot-update records them)")
    return lines


TIED_HEAD_4X = (
    f"refuted on transformers {transformers.__version__}: config.tie_word_embeddings makes 4.x tie lm_head to "
    "embed_tokens although the checkpoint stores a different lm_head.weight (A7), so the causal LM scores with the "
    "embedding while 001's classifier scores with the stored lm_head.weight; transformers 5 keeps them apart"
)


def pytest_collection_modifyitems(config, items):
    source, applies = config.stash[SOURCE_KEY], config.stash[APPLICABILITY_KEY]
    tied_head = head_replaced_by_tying(source.path)
    for item in items:
        named = claims.claims_of(item)  # an unknown claim id stops the run here
        if tied_head and item.get_closest_marker("classifier_against_causal_lm"):
            item.add_marker(pytest.mark.xfail(strict=True, raises=AssertionError, reason=TIED_HEAD_4X))
        reason = _not_applicable(item, named, applies)
        if reason:
            item.add_marker(pytest.mark.skip(reason=applicability.NOT_APPLICABLE + reason))


def _not_applicable(item, named, applies: applicability.Applicability) -> str | None:
    """Why this test's part of the articles does not apply to the model under test, or None."""
    if applicability.only_values(named):
        return applies.values
    return next((getattr(applies, part) for marker, part in NEEDS.items() if item.get_closest_marker(marker) and getattr(applies, part)), None)


@pytest.fixture(scope="session")
def settings(pytestconfig) -> options.Settings:
    return pytestconfig.stash[SETTINGS_KEY]


@pytest.fixture(scope="session")
def source(pytestconfig) -> model_source.ModelSource:
    return pytestconfig.stash[SOURCE_KEY]


@pytest.fixture(scope="session")
def articles() -> dict:
    """What the articles print, as data (fixtures/articles.json)."""
    return printed.articles()


@pytest.fixture(scope="session")
def applies(pytestconfig) -> applicability.Applicability:
    """Which of the articles' specifics apply to this model (genspec/run/applicability.py)."""
    return pytestconfig.stash[APPLICABILITY_KEY]


@pytest.fixture(scope="session")
def tokenizer(pytestconfig):
    return pytestconfig.stash[TOKENIZER_KEY]


class LoadedModel(NamedTuple):
    model: torch.nn.Module
    log: list[str]  # what transformers logged while loading
    info: dict  # from_pretrained's loading info: missing, unexpected and mismatched keys


@pytest.fixture(scope="session")
def loaded_model(source, settings) -> LoadedModel:
    """The causal LM, loaded once per session as the articles load it."""
    with transformers_messages() as log:
        model, info = load_pretrained(AutoModelForCausalLM, source.path, settings.dtype, settings.device)
    return LoadedModel(model, log, info)


@pytest.fixture(scope="session")
def model(loaded_model):
    return loaded_model.model


@pytest.fixture
def recorded(snapshot, request, source, settings):
    """`recorded(observation, decided_by=None)`: keep what the test observed, and compare it with this model's snapshot.

    decided_by names what besides the model decides the observation ("generator": seeded draws,
    "rounding": tokens chosen by argmax), so that it is recorded per platform (genspec/run/platform.py).
    Where nothing is recorded for this run's platform, the observation is reported, not compared.
    """
    tolerance = snapshot_tolerance(settings.dtype, settings.device)

    def record(observation, decided_by: str | None = None):
        request.node.user_properties.append(("observation", observation))
        if settings.snapshots != "compare":
            return
        base = identity_directory(source.identity, settings.dtype)
        key = recording_key(decided_by, settings.dtype, settings.device)
        directory = base / key if key else base
        updating = request.config.option.update_snapshots
        if key and base.exists() and not directory.exists() and not updating:
            elsewhere = sorted(path.name.removeprefix("on-") for path in base.glob("on-*"))
            request.node.user_properties.append(("evidence", (
                f"observation not compared: the {decided_by} decides it and it is recorded for "
                f"{', '.join(elsewhere) or 'no platform'}, not for {key.removeprefix('on-')} (--snapshot-update records it)")))
            return
        if directory.exists() or updating:
            assert snapshot.use_extension(ObservationExtension.for_run(directory, *tolerance)) == observation

    return record
