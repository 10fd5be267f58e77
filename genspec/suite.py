"""The proof's pytest wiring: the model the options choose, the markers, and the session fixtures.

Switched on by the checkout's root conftest.py; the options themselves come from genspec.plugin.
"""

from genspec.run.importable import stop_unless_transformers_imports

stop_unless_transformers_imports()  # before anything below imports transformers: a release that cannot, stops in one line

import dataclasses
from typing import NamedTuple

import pytest
import tokenizers
import torch
import transformers
from transformers import AutoModelForCausalLM

from genspec.classification import head_replaced_by_tying
from genspec.run import applicability, claims, memory, model_source, options, printed, startup
from genspec.run.hub_kernels import KERNEL_USE_KEY, kernel_use
from genspec.run.loading import kernels_line, load_pretrained, load_tokenizer, transformers_messages

pytest_plugins = ["genspec.session", "genspec.reports.recordings", "genspec.reports.proof_report", "genspec.reports.unfinished_update", "genspec.run.parallel"]

SOURCE_KEY, SETTINGS_KEY = options.SOURCE_KEY, options.SETTINGS_KEY
APPLICABILITY_KEY = pytest.StashKey[applicability.Applicability]()
NOT_APPLICABLE_KEY = pytest.StashKey[applicability.NotApplicable]()  # a part of the articles this model lacks, found at collection
TOKENIZER_KEY = pytest.StashKey[object]()  # loaded once, at configure: applicability reads it, the tests use it
SHORTFALL_KEY = pytest.StashKey[str]()  # the run will not fit in the memory free now: the header's warning
# marker -> the part of the articles it needs (an Applicability field)
NEEDS = {"article_config": "configuration", "article_tokenizer": "tokenizer", "chat_template": "chat_template"}


def pytest_configure(config):
    config.addinivalue_line("markers", "claim(*ids): the catalogue claims this test proves")
    config.addinivalue_line("markers", "article_config: asserts the sizes the articles print for Qwen3-0.6B (its configuration)")
    config.addinivalue_line("markers", "article_tokenizer: asserts the token ids the articles print (Qwen3's tokenizer)")
    config.addinivalue_line("markers", "chat_template: formats the articles' prompts as chat (needs the tokenizer's chat template)")
    config.addinivalue_line("markers", "classifier_against_causal_lm: compares 001's classifier with the causal LM")
    config.addinivalue_line("markers", "reads_no_scores: uses the model without reading its scores (the printed tree, E1/E2's errors)")
    if config.option.help:
        return
    settings = options.resolve(config)
    if config.option.update_snapshots and getattr(config.option, "numprocesses", None):
        raise pytest.UsageError("--snapshot-update with -n: each worker sees only its share of the tests and would drop the "
                                "others' snapshots as unused; record them without -n.")
    try:
        startup.check_device(settings.device)
        startup.check_kernels(settings.kernels)
        startup.check_cache_folder(settings.cache_root, options.given_as(config, options.CACHE))
        source = model_source.resolve(settings.model, settings.seed, settings.cache_root)
        startup.check_causal_lm(source.path, f"--model {settings.model}")
    except (startup.CannotStart, model_source.ModelSourceError) as error:
        raise pytest.UsageError(str(error)) from None
    config.stash[SETTINGS_KEY] = settings
    config.stash[SOURCE_KEY] = source
    try:
        tokenizer = load_tokenizer(source.path)
        startup.check_tokenizer(tokenizer, source.path, f"--model {settings.model}")
    except (OSError, ValueError) as error:
        raise pytest.UsageError(f"--model {settings.model}: its tokenizer does not load with transformers {transformers.__version__} "
                                f"({error}). Check the tokenizer files in {source.path}.") from None
    except startup.CannotStart as error:
        raise pytest.UsageError(str(error)) from None
    config.stash[TOKENIZER_KEY] = tokenizer
    applies = applicability.of(source.path, tokenizer)
    if head_replaced_by_tying(source.path):
        applies = dataclasses.replace(applies, head_tied_over_stored=HEAD_TIED_OVER_STORED)
    config.stash[APPLICABILITY_KEY] = applies
    shortfall = memory.shortfall_warning(source.path, settings.dtype, settings.device, settings.model)
    if shortfall:  # before any model is loaded: the user hears why, instead of minutes of swapping
        config.stash[SHORTFALL_KEY] = shortfall


def pytest_report_header(config):
    settings, source = config.stash[SETTINGS_KEY], config.stash[SOURCE_KEY]
    lines = [
        f"genspec model: {source.requested} -> {source.identity} ({source.path})"
        + (f", weights sha256 {source.weights_sha256[:12]}" if source.weights_sha256 else ""),
        (f"genspec dtype: {settings.dtype}, device: {settings.device}; torch {torch.__version__}, "
         f"transformers {transformers.__version__}, tokenizers {tokenizers.__version__}"),
        kernels_line(settings.kernels),
    ]
    if source.unavailable:
        lines.append(f"genspec: {source.unavailable}; structural and tokenizer claims run on the stand-in")
    if SHORTFALL_KEY in config.stash:
        lines.append(config.stash[SHORTFALL_KEY])
    applies = config.stash[APPLICABILITY_KEY]
    for part in dict.fromkeys((applies.configuration, applies.tokenizer, applies.chat_template)):
        if part:
            lines.append(f"genspec: {part}; claims are proven in their general form")
    # The recordings' line, from the plugin that owns them (not imported here: pytest rewrites a plugin's asserts only if it
    # imports the module itself)
    lines.append(config.pluginmanager.get_plugin("genspec.reports.recordings").header_line(config))
    return lines


HEAD_TIED_OVER_STORED = (
    f"transformers {transformers.__version__} scores with the tied embedding, not the lm_head.weight the checkpoint stores (A7 refuted "
    "here), so the model it builds is not the articles' model as stored")
TIED_HEAD_4X = (
    f"refuted on transformers {transformers.__version__}: config.tie_word_embeddings makes 4.x tie lm_head to "
    "embed_tokens although the checkpoint stores a different lm_head.weight (A7), so the causal LM scores with the "
    "embedding while 001's classifier scores with the stored lm_head.weight; transformers 5 keeps them apart"
)


@pytest.hookimpl(trylast=True)  # after syrupy has seen every collected test (only_the_claims_asked_for says why)
def pytest_collection_modifyitems(config, items):
    applies = config.stash[APPLICABILITY_KEY]
    only_the_claims_asked_for(config, items)
    tied_head = applies.head_tied_over_stored is not None  # read from the checkpoint once, at configure
    for item in items:
        named = claims.claims_of(item)  # an unknown claim id stops the run here
        if tied_head and item.get_closest_marker("classifier_against_causal_lm"):
            item.add_marker(pytest.mark.xfail(strict=True, raises=AssertionError, reason=TIED_HEAD_4X))
        reason = _not_applicable(item, named, applies)
        if reason:  # judged by the one rule before the test's fixtures run: not applicable, or on the articles' model failed
            item.stash[NOT_APPLICABLE_KEY] = applicability.NotApplicable(reason)


def pytest_runtest_setup(item):
    if NOT_APPLICABLE_KEY in item.stash:
        pytest.skip(item.config.stash[APPLICABILITY_KEY].unjudged(item.stash[NOT_APPLICABLE_KEY]))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A claim a test could not judge (applicability.NotApplicable, CannotShow, raised anywhere in it) gets its verdict from
    the one rule: skipped with the line that names it, or failed on the articles' model."""
    try:
        return (yield)
    except applicability.Unjudged as verdict:
        pytest.skip(item.config.stash[APPLICABILITY_KEY].unjudged(verdict))


def only_the_claims_asked_for(config, items) -> None:
    """`--claims X1,A7`: keep the tests that name one of them (genspec-bisect runs one claim per release).

    Run after syrupy has seen every collected test: the tests left out are then deselected, as `-k` deselects, and their
    recordings are neither reported unused nor deleted by `--snapshot-update`. (Run first, syrupy took the kept tests for the
    whole proof, and an update of one claim deleted every other claim's recordings.)"""
    asked = config.getoption(options.ONLY_CLAIMS)
    if not asked:
        return
    wanted = {claim_id.strip() for claim_id in asked.split(",") if claim_id.strip()}
    unknown = sorted(wanted - set(claims.catalogue()))
    if unknown:
        raise pytest.UsageError(f"--claims {asked}: {', '.join(unknown)} not in {claims.CATALOGUE.name}")
    kept = [item for item in items if wanted & {claim.id for claim in claims.claims_of(item)}]
    deselected = [item for item in items if item not in kept]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


# Fixtures that build 001's classifier: a test that asks for one needs the family to have it.
CLASSIFIER_FIXTURES = {"classifier", "classifier_and_info", "classifier_with_pad"}


def _not_applicable(item, named, applies: applicability.Applicability) -> str | None:
    """Why this test's part of the articles does not apply to the model under test, or None."""
    if applicability.only_values(named):
        return applies.values
    if applies.sequence_classifier and CLASSIFIER_FIXTURES & set(getattr(item, "fixturenames", ())):
        return applies.sequence_classifier
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


MODEL_KEY = pytest.StashKey[LoadedModel]()  # the causal LM, loaded before the first test


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session):
    """The causal LM is loaded once, after collection and before any test, where a selected test needs it: a checkpoint that does
    not load (what the checks before the run did not foresee) stops the run in one ERROR line and exit code 4, as they do."""
    config = session.config
    if config.option.collectonly or SETTINGS_KEY not in config.stash or MODEL_KEY in config.stash:
        return
    if any({"model", "loaded_model"} & set(getattr(item, "fixturenames", ())) for item in session.items):
        config.stash[MODEL_KEY] = _load_causal_lm(config.stash[SOURCE_KEY], config.stash[SETTINGS_KEY])
        if config.stash[SETTINGS_KEY].kernels == "hub":  # what the header could only announce: counted on the model loaded
            config.stash[KERNEL_USE_KEY] = kernel_use(config.stash[MODEL_KEY].model).line()
            reporter = config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(config.stash[KERNEL_USE_KEY])


def _load_causal_lm(source, settings) -> LoadedModel:
    with transformers_messages() as log:
        try:
            model, info = load_pretrained(AutoModelForCausalLM, source.path, settings.dtype, settings.device,
                                          **({"use_kernels": True} if settings.kernels == "hub" else {}))
        except Exception as error:  # noqa: BLE001 (whatever it is, one line: the run cannot prove anything on this checkpoint)
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise pytest.UsageError(f"--model {settings.model}: does not load as a causal LM with transformers {transformers.__version__} "
                                    f"({type(error).__name__}: {first}). genspec loads a checkpoint's safetensors in float32 or "
                                    "bfloat16 with AutoModelForCausalLM, as the articles do.") from None
    return LoadedModel(model, log, info)


@pytest.fixture(scope="session")
def loaded_model(pytestconfig) -> LoadedModel:
    """The causal LM, loaded once per session as the articles load it (before the first test: pytest_collection_finish)."""
    if MODEL_KEY not in pytestconfig.stash:  # a test that asks for it indirectly, found only now
        pytestconfig.stash[MODEL_KEY] = _load_causal_lm(pytestconfig.stash[SOURCE_KEY], pytestconfig.stash[SETTINGS_KEY])
    return pytestconfig.stash[MODEL_KEY]


@pytest.fixture(scope="session")
def model(loaded_model):
    return loaded_model.model
