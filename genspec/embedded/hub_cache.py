"""A checkpoint laid out in a Hugging Face cache as `hf download` leaves it, for the tests of a user's hub path.

blobs/ (the weights named by their sha256, as the hub names them), snapshots/<commit>/ of links to them, and refs/<name>
holding the commit a branch or tag points at. A model update is a second snapshot beside the first, refs/main moved to it.
"""

import os
import shutil
from pathlib import Path

from genspec.embedded.checkpoint import MANIFEST, sha256_of_file  # MANIFEST: the stand-in build's own record, a real checkpoint has none


def place(file: Path, target: Path) -> None:
    """A hard link where the filesystem allows it (no 1.5 GB copy), else a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        return  # a blob two revisions share
    try:
        os.link(file, target)
    except OSError:
        shutil.copy2(file, target)


def repository_folder(hub_cache: Path, repo_id: str) -> Path:
    return hub_cache / ("models--" + repo_id.replace("/", "--"))


def add_revision(checkpoint: Path, hub_cache: Path, repo_id: str, commit: str, refs=("main",)) -> Path:
    """Lay `checkpoint`'s files out as revision `commit` of `repo_id`; each ref in `refs` then points at it. Returns the snapshot."""
    repository = repository_folder(hub_cache, repo_id)
    snapshot = repository / "snapshots" / commit
    snapshot.mkdir(parents=True)
    for file in sorted(checkpoint.iterdir()):
        if file.name == MANIFEST:
            continue
        # The hub names a weights blob by its sha256; small files by their git hash, which any content hash stands in for here.
        blob = repository / "blobs" / sha256_of_file(file)
        place(file, blob)
        (snapshot / file.name).symlink_to(os.path.relpath(blob, snapshot))
    for ref in refs:
        (repository / "refs" / ref).parent.mkdir(parents=True, exist_ok=True)
        (repository / "refs" / ref).write_text(commit)
    return snapshot

