"""A families run's rows kept beside its matrix, each keyed by what decides it: the family, the transformers release, torch and
genspec's own source (the proof and the machinery). A run that is stopped goes on where it stopped; a rerun proves again only
the families whose key changed.

    <output>/rows/<family>.json   {"key": {...}, "row": {...}}   (a red cell's script is written from the row)
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


# What is derived from the rows, not what makes them: the command and its pages, the scripts written from a row's inputs, the
# causes and their counter-patches. A change to these rewrites the pages and scripts without proving a family again.
DERIVED = ("families/command.py", "families/scripts.py", "families/causes.py", "families/findings.py")


@cache
def source_sha256() -> str:
    """One hash of genspec's source and the proof's: every .py and .ini file of the package and of spec/, in path order, but
    those DERIVED from the rows."""
    digest = hashlib.sha256()
    for root in dict.fromkeys((PACKAGE, SPEC)):
        for path in sorted(root.rglob("*")):
            if path.suffix in (".py", ".ini") and "__pycache__" not in path.parts and not _derived(path):
                digest.update(str(path.relative_to(root.parent)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _derived(path: Path) -> bool:
    return path.is_relative_to(PACKAGE) and path.relative_to(PACKAGE).as_posix() in DERIVED


def key(family: str, claims: tuple[str, ...]) -> dict:
    return {"family": family, "transformers": transformers.__version__, "torch": torch.__version__, "genspec source": source_sha256()[:16],
            "claims": list(claims)}


def kept(output: Path, family: str, claims: tuple[str, ...]) -> dict | None:
    """The family's row from an earlier run with the same key; else None. (Its scripts are written from the row, each run.)"""
    path = output / FOLDER / f"{family}.json"
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # never kept, or cut short by a kill: proven again
    return stored["row"] if stored.get("key") == key(family, claims) else None


def keep(output: Path, row: dict, claims: tuple[str, ...]) -> None:
    write_whole(output / FOLDER / f"{row['family']}.json", json.dumps({"key": key(row["family"], claims), "row": row}, ensure_ascii=False) + "\n")
