"""A families run's rows kept beside its matrix, each keyed by what decides it: the family, the transformers release, torch and
genspec's own source (the proof and the machinery). A run that is stopped goes on where it stopped; a rerun proves again only
the families whose key changed.

    <output>/rows/<family>.json   {"key": {...}, "row": {...}}   (a red cell's script stays in <output>/repro/)
"""

import hashlib
import json
from functools import cache
from pathlib import Path

import torch
import transformers

from genspec import PACKAGE, SPEC
from genspec.files import write_whole

FOLDER = "rows"


@cache
def source_sha256() -> str:
    """One hash of genspec's source and the proof's: every .py and .ini file of the package and of spec/, in path order."""
    digest = hashlib.sha256()
    for root in dict.fromkeys((PACKAGE, SPEC)):
        for path in sorted(root.rglob("*")):
            if path.suffix in (".py", ".ini") and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root.parent)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def key(family: str, claims: tuple[str, ...]) -> dict:
    return {"family": family, "transformers": transformers.__version__, "torch": torch.__version__, "genspec source": source_sha256()[:16],
            "claims": list(claims)}


def kept(output: Path, family: str, claims: tuple[str, ...]) -> dict | None:
    """The family's row from an earlier run with the same key, where its scripts are still there; else None."""
    path = output / FOLDER / f"{family}.json"
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # never kept, or cut short by a kill: proven again
    if stored.get("key") != key(family, claims):
        return None
    scripts = [cell["repro"] for cell in stored["row"].get("claims", {}).values() if cell.get("repro")]
    return stored["row"] if all((output / script).exists() for script in scripts) else None


def keep(output: Path, row: dict, claims: tuple[str, ...]) -> None:
    write_whole(output / FOLDER / f"{row['family']}.json", json.dumps({"key": key(row["family"], claims), "row": row}, ensure_ascii=False) + "\n")
