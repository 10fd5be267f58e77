"""Which weights a run saw, as one content hash: the same weights under two names hash the same.

A checkpoint's hash is its safetensors file's sha256, or for a sharded checkpoint the sha256 of
its "name sha256" lines. A hub cache already stores each file under blobs/<its sha256>, so those
cost nothing; other files are hashed once and remembered by path, size and mtime.
"""

import hashlib
import json
import re
from pathlib import Path

from filelock import FileLock

from genspec.embedded.checkpoint import sha256_of_file
from genspec.files import write_whole

SHA256_NAME = re.compile(r"[0-9a-f]{64}")
REMEMBERED = "weights-sha256.json"


def checkpoint_sha256(directory: Path, cache_root: Path) -> str:
    files = sorted(directory.glob("*.safetensors"))
    hashes = [file_sha256(file, cache_root) for file in files]
    if len(hashes) == 1:
        return hashes[0]
    lines = "".join(f"{file.name} {digest}\n" for file, digest in zip(files, hashes, strict=True))
    return hashlib.sha256(lines.encode()).hexdigest()


def file_sha256(file: Path, cache_root: Path) -> str:
    real = file.resolve()
    if real.parent.name == "blobs" and SHA256_NAME.fullmatch(real.name):
        return real.name  # the hub cache names a weights blob by its sha256
    stat = real.stat()
    key = f"{real}:{stat.st_size}:{stat.st_mtime_ns}"
    remembered = cache_root / REMEMBERED
    cache_root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(remembered) + ".lock"):
        known = _read(remembered)
        if key not in known:
            known[key] = sha256_of_file(real)
            _write(remembered, known)
    return known[key]


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}  # missing or damaged: hashes are recomputed, nothing is lost


def _write(path: Path, known: dict) -> None:
    write_whole(path, json.dumps(known, indent=1))  # a kill mid-write leaves the old file whole
