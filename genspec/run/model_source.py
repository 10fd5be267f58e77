"""Resolve `--model` to a local checkpoint directory, or say in one sentence why not.

`embedded` (the default) and `embedded-small` are stand-ins built on first use; a hub id such
as `Qwen/Qwen3-0.6B` is read from the local Hugging Face cache only (HF_HOME and
HF_HUB_OFFLINE are honoured by huggingface_hub; nothing is downloaded behind the user's back);
anything else must be a checkpoint directory.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import scan_cache_dir, snapshot_download
from huggingface_hub.errors import CacheNotFound, LocalEntryNotFoundError
from safetensors import SafetensorError, safe_open

from genspec import PROOF_COMMAND
from genspec.embedded.checkpoint import PROFILES, ensure_stand_in
from genspec.run.weights_identity import checkpoint_sha256

REAL_MODEL = "Qwen/Qwen3-0.6B"
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
FULL_COMMIT, SHORT_COMMIT = re.compile(r"[0-9a-f]{40}"), re.compile(r"[0-9a-f]{4,39}")
HOW_TO_GET_REAL_WEIGHTS = (
    f"on a machine with network run `hf download {REAL_MODEL}`, "
    f"then `{PROOF_COMMAND} --model {REAL_MODEL}` (or `--model DIR` for a local copy)"
)


class ModelSourceError(Exception):
    """A `--model` that cannot be used; the message says what is wrong and what to do."""


@dataclass(frozen=True)
class ModelSource:
    requested: str
    path: Path
    identity: str  # names exactly which weights were seen: stand-in seed+hash or hub id@revision
    is_stand_in: bool
    # Set when the requested checkpoint is missing and the run fell back to the stand-in.
    unavailable: str | None = None
    weights_sha256: str | None = None  # the weights' content hash (genspec/run/weights_identity.py)
    revision: str | None = None  # the hub snapshot's commit


def resolve(requested: str, seed: int, cache_root: Path, hub_cache: Path | None = None) -> ModelSource:
    """`hub_cache`: the Hugging Face cache to read hub ids from (default: huggingface_hub's, from HF_HOME / HF_HUB_CACHE)."""
    if requested in PROFILES:
        return _stand_in(requested, seed, cache_root)
    candidate = Path(requested).expanduser()
    repo_id, at, revision = requested.partition("@")
    if at and not candidate.exists() and HUB_ID.match(repo_id):
        return _hub_revision(requested, repo_id, revision, cache_root, hub_cache)
    if candidate.exists() or not HUB_ID.match(requested):
        return _local(requested, candidate, cache_root)
    return _hub(requested, seed, cache_root, hub_cache)


def _stand_in(profile: str, seed: int, cache_root: Path, requested: str | None = None, unavailable=None):
    stand_in = ensure_stand_in(profile, seed, cache_root)
    try:
        check_checkpoint(stand_in.path)
    except ModelSourceError as error:
        raise ModelSourceError(f"{error} Delete {stand_in.path} and the next run rebuilds it.") from None
    return ModelSource(requested or profile, stand_in.path, stand_in.identity, True, unavailable, stand_in.weights_sha256)


def _local(requested: str, directory: Path, cache_root: Path) -> ModelSource:
    check_checkpoint(directory)
    return ModelSource(requested, directory.resolve(), f"local-{directory.resolve().name}", is_stand_in=False,
                       weights_sha256=checkpoint_sha256(directory, cache_root))


def _hub(repo_id: str, seed: int, cache_root: Path, hub_cache: Path | None) -> ModelSource:
    try:
        snapshot = Path(snapshot_download(repo_id, local_files_only=True, cache_dir=hub_cache))
    except LocalEntryNotFoundError:
        # Structural and tokenizer claims still run, on the embedded stand-in; value claims are
        # skipped with the line that says how to get the real weights.
        reason = f"{repo_id} is not in the local Hugging Face cache: {HOW_TO_GET_REAL_WEIGHTS}"
        return _stand_in("embedded", seed, cache_root, requested=repo_id, unavailable=reason)
    check_checkpoint(snapshot)
    return ModelSource(repo_id, snapshot, f"{repo_id}@{snapshot.name}", is_stand_in=False, revision=snapshot.name,
                       weights_sha256=checkpoint_sha256(snapshot, cache_root))


def _hub_revision(requested: str, repo_id: str, revision: str, cache_root: Path, hub_cache: Path | None) -> ModelSource:
    """`REPO@REV`: a commit (full, or the start of one as the hub's pages show it), a branch or a tag, read from the local cache only.
    An old revision of a model update stays in the cache beside the new one, so both can be proven and compared."""
    cached = _cached_revisions(repo_id, hub_cache)
    commit = revision
    if not FULL_COMMIT.fullmatch(revision):
        by_ref = [commit for commit, refs in cached.items() if revision in refs]
        by_start = [commit for commit in cached if SHORT_COMMIT.fullmatch(revision) and commit.startswith(revision)]
        matches = by_ref or by_start
        if len(matches) > 1:
            raise ModelSourceError(f"--model {requested}: {revision} begins {len(matches)} cached revisions of {repo_id} "
                                   f"({', '.join(sorted(matches))}); give more of the commit hash.")
        commit = matches[0] if matches else revision
    try:
        snapshot = Path(snapshot_download(repo_id, revision=commit, local_files_only=True, cache_dir=hub_cache))
    except LocalEntryNotFoundError:
        held = "; ".join(f"{commit[:12]}{' (' + ', '.join(sorted(refs)) + ')' if refs else ''}" for commit, refs in sorted(cached.items()))
        raise ModelSourceError(
            f"--model {requested}: revision {revision} of {repo_id} is not in the local Hugging Face cache, which holds "
            + (f"{held}." if cached else "no revision of it.")
            + f" On a machine with network run `hf download {repo_id} --revision {revision}`.") from None
    check_checkpoint(snapshot)
    return ModelSource(requested, snapshot, f"{repo_id}@{snapshot.name}", is_stand_in=False, revision=snapshot.name,
                       weights_sha256=checkpoint_sha256(snapshot, cache_root))


def _cached_revisions(repo_id: str, hub_cache: Path | None) -> dict[str, set[str]]:
    """The cached revisions of a model repository: commit hash -> the refs (branches, tags) that point at it."""
    try:
        info = scan_cache_dir(hub_cache)
    except CacheNotFound:
        return {}
    return {revision.commit_hash: set(revision.refs) for repo in info.repos if repo.repo_id == repo_id and repo.repo_type == "model"
            for revision in repo.revisions}


GGUF_WAY = (". transformers dequantizes a GGUF file: AutoModelForCausalLM.from_pretrained(DIR, gguf_file=NAME), then "
            "save_pretrained() to a directory, and give that.")


def _json_or_empty(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def check_checkpoint(directory: Path) -> None:
    """Raise ModelSourceError unless `directory` holds a config and readable safetensors."""
    where = f"--model {directory}"
    if directory.is_file():
        kind = "a GGUF file (llama.cpp's format)" if directory.suffix == ".gguf" else "a file"
        raise ModelSourceError(f"{where}: {kind}, not a checkpoint directory. Give the directory that holds config.json and "
                               "*.safetensors" + (GGUF_WAY if directory.suffix == ".gguf" else "."))
    if not directory.is_dir():
        raise ModelSourceError(
            f"{where}: no such directory. Give `embedded`, a hub id such as {REAL_MODEL}, "
            "or a directory holding config.json and *.safetensors."
        )
    config = directory / "config.json"
    adapter = directory / "adapter_config.json"
    if not config.is_file() and adapter.is_file():
        base = _json_or_empty(adapter).get("base_model_name_or_path", "the base model")
        raise ModelSourceError(f"{where}: a PEFT adapter (adapter_config.json), not a model: it holds only the adapter's own weights. "
                               f"Merge it into its base model ({base}) with peft's merge_and_unload(), save_pretrained() the result, "
                               "and give that directory.")
    ggufs = sorted(p.name for p in directory.glob("*.gguf"))
    if not config.is_file() and ggufs:
        raise ModelSourceError(f"{where}: only GGUF weights ({', '.join(ggufs)}, llama.cpp's format); genspec loads safetensors" + GGUF_WAY)
    if not config.is_file():
        raise ModelSourceError(f"{where}: no config.json there; this is not a checkpoint directory.")
    try:
        json.loads(config.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelSourceError(f"{where}: config.json is not valid JSON ({error}).") from None
    weights = sorted(directory.glob("*.safetensors"))
    if not weights:
        pickles = [p.name for p in directory.glob("*.bin")] + [p.name for p in directory.glob("*.pt")]
        if ggufs:
            raise ModelSourceError(f"{where}: only GGUF weights ({', '.join(ggufs)}, llama.cpp's format); genspec loads safetensors"
                                   + GGUF_WAY)
        if pickles:
            raise ModelSourceError(
                f"{where}: only pickle weights ({', '.join(pickles)}); genspec loads safetensors only, "
                "because unpickling can run arbitrary code. Convert them to safetensors first."
            )
        raise ModelSourceError(f"{where}: no *.safetensors weights there.")
    for file in weights:
        try:
            with safe_open(str(file), framework="pt") as handle:
                handle.keys()
        except (SafetensorError, OSError) as error:
            raise ModelSourceError(
                f"{where}: {file.name} is corrupt or truncated ({error}); download or build it again."
            ) from None
