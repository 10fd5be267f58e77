"""Each red cell of a families matrix given its kind and cause (genspec/families/causes.py), and the findings page.

A DEFECT's cause is written only where its script, run as a maintainer runs it (`python script.py`), exits 1 and its
counter-patch (`python script.counter.py`: the smallest change of transformers' lines, then the script) exits 0. Otherwise the
cell reads "cause not found", naming what was ruled out. A by-design or recipe cause is written where its lines are in the
installed transformers. The scripts' exits are kept beside the matrix (verified/), keyed by the scripts' text and the
releases, so a rerun runs only what changed.

    docs/families/<release>/findings.md   defects grouped by cause, each once: families, claims, the lines, the counter-patch,
                                          one script and its exits; then the family's design, then the recipe's limits
"""

import hashlib
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch
import transformers

from genspec.families import causes
from genspec.files import write_whole

VERIFIED = "verified"  # beside the matrix: each defect script's exits, as and under its counter-patch
SCRIPT_SECONDS = 600


def judge(matrix: dict, output: Path, python: str = sys.executable, workers: int = 1) -> None:
    """Each red cell ("failed") of `matrix` given "kind" and "cause" (with "counter-patch" and "exits" for a defect); its scripts
    are those command.write_scripts wrote under `output`."""
    red = [(row, claim, cell) for row in matrix["families"] for claim, cell in row.get("claims", {}).items() if cell["status"] == "failed"]
    defects = []
    for row, claim, cell in red:
        cause = causes.cause_of(row["family"], claim)
        for key in ("kind", "cause", "cause text", "lines", "counter-patch", "exits"):
            cell.pop(key, None)
        if cause is None:
            cell |= {"kind": causes.CAUSE_NOT_FOUND, "cause text": "no cause in transformers is known for this cell yet"}
            continue
        named = causes.lines_of(cause, row["family"])
        lines = [causes.where(line, row["family"]) for line in named]
        cell |= {"cause": cause.name, "lines": lines}
        if None in lines:
            missing = [line.text for line, found in zip(named, lines, strict=True) if found is None]
            cell |= {"kind": causes.CAUSE_NOT_FOUND, "cause text": f"ruled out: {cause.title} — its line is not in transformers "
                                                                    f"{transformers.__version__} ({'; '.join(missing)[:200]})"}
        elif cause.kind == causes.DEFECT:
            defects.append((row, claim, cell, cause))
        else:
            cell |= {"kind": cause.kind, "cause text": causes.statement(cause, row["family"])}
    with ThreadPoolExecutor(max(1, workers)) as pool:
        exits = list(pool.map(lambda each: _exits(each[0]["family"], each[1], each[2], output, python), defects))
    for (row, _claim, cell, cause), ran in zip(defects, exits, strict=True):
        cell["exits"] = ran
        cell["counter-patch"] = ran["counter-patch"]
        if ran["script"] == 1 and ran["counter"] == 0:
            cell |= {"kind": causes.DEFECT, "cause text": causes.statement(cause, row["family"])}
        elif ran["script"] != 1:
            cell |= {"kind": causes.CAUSE_NOT_FOUND, "cause text": (f"not judged: the script does not reproduce the finding here (exit "
                                                                    f"{ran['script']}: {ran['script said'][:200]})")}
        else:
            cell |= {"kind": causes.CAUSE_NOT_FOUND, "cause text": (f"ruled out: {cause.title} — under its counter-patch the script "
                                                                    f"still exits {ran['counter']} ({ran['counter said'][:200]})")}


def _exits(family: str, claim: str, cell: dict, output: Path, python: str) -> dict:
    """The script's exit code as written and under its counter-patch (written beside it), kept under the scripts' text."""
    script = output / cell["repro"]
    counter = script.with_suffix(".counter.py")
    text = causes.counter_patch(family, claim, script.name)
    write_whole(counter, text)
    key = hashlib.sha256("\0".join((script.read_text(encoding="utf-8"), text, transformers.__version__, torch.__version__,
                                    python)).encode()).hexdigest()
    kept = output / VERIFIED / f"{script.stem}.json"
    try:
        stored = json.loads(kept.read_text(encoding="utf-8"))
        if stored.get("key") == key:
            return stored["exits"]
    except (OSError, ValueError):
        pass
    ran = {"counter-patch": f"{script.parent.name}/{counter.name}"}
    for name, path in (("script", script), ("counter", counter)):
        code, said = run_script(path, python)
        ran |= {name: code, f"{name} said": said}
    write_whole(kept, json.dumps({"key": key, "exits": ran}, ensure_ascii=False) + "\n")
    return ran


def run_script(path: Path, python: str) -> tuple[int, str]:
    """`python path` as a maintainer runs it, nothing of genspec's settings in its environment: its exit code and last line."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("GENSPEC_", "PYTHON"))}
    try:
        done = subprocess.run([python, path.name], cwd=path.parent, capture_output=True, text=True, env=environment,
                              timeout=SCRIPT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        return -1, f"did not end within {SCRIPT_SECONDS} s"
    said = [line for line in (done.stdout + done.stderr).splitlines() if line.strip() and "it/s]" not in line]
    return done.returncode, (said[-1] if said else "no output")[:300]


def to_markdown(matrix: dict) -> str:
    """findings.md: every cause once, with its families, claims, lines and (a defect's) counter-patch and one script's exits."""
    red = [(row["family"], claim, cell) for row in matrix["families"] for claim, cell in row.get("claims", {}).items()
           if cell["status"] == "failed"]
    by_kind = {kind: [each for each in red if each[2].get("kind") == kind] for kind in causes.KINDS}
    release = matrix["transformers"]
    lines = [f"# Why each red cell is red, on transformers {release}", "", "[← the matrix](families.md)", "",
             f"{len(red)} red cell{'' if len(red) == 1 else 's'}: " + ", ".join(f"{len(by_kind[kind])} {kind}" for kind in causes.KINDS) + ".", "",
             ("- **defect** — transformers contradicts itself. Its cause is written only where the cell's script exits 1 and its "
             "counter-patch (the smallest change of the lines named, applied in the script's process) exits 0."),
             "- **by design** — the family is not what the claim speaks of: still red, shown by the line that makes it so.",
             "- **the articles' recipe** — the articles' construction does not carry over to the family, shown by its line.",
             "- **cause not found** — what was ruled out, if anything.", ""]
    titles = {causes.DEFECT: "Defects", causes.BY_DESIGN: "By design", causes.RECIPE: "The articles' recipe"}
    for kind, title in titles.items():
        lines += [f"## {title}", ""] + ([] if by_kind[kind] else ["None.", ""])
        for cause in causes.CAUSES:
            cells = [(family, claim, cell) for family, claim, cell in by_kind[kind] if cell.get("cause") == cause.name]
            if not cells:
                continue
            families = sorted({family for family, _, _ in cells})
            claims = sorted({claim for _, claim, _ in cells})
            lines += [f"### {cause.title}", "", (f"<a id=\"{cause.name}\"></a>{len(cells)} cell{'' if len(cells) == 1 else 's'} — families: {', '.join(families)}; "
                      f"claims: {', '.join(claims)}."), "", causes.statement(cause, families[0] if len(families) == 1 else None), ""]
            lines += ["Where: " + "; ".join(sorted({line for _, _, cell in cells for line in cell.get("lines", []) if line})), ""]
            if cause.upstream:
                lines += [f"Upstream: {cause.upstream}", ""]
            if kind == causes.DEFECT:
                family, claim, cell = cells[0]
                lines += [(f"Counter-patch, shown on {family} {claim} ([script]({cell['repro']}), [counter-patch]({cell['counter-patch']})): "
                          f"the script exits {cell['exits']['script']} as written, {cell['exits']['counter']} under the patch. Every cell of "
                          "this cause was run both ways:"), "", "| family | claim | as written | under the counter-patch |", "|---|---|---|---|"]
                lines += [f"| {family} | {claim} | exit {cell['exits']['script']} | exit {cell['exits']['counter']} |" for family, claim, cell in cells]
                lines += [""]
            else:
                lines += ["Cells: " + ", ".join(f"{family} {claim}" + (f" ([script]({cell['repro']}))" if cell.get("repro") else "")
                                                for family, claim, cell in cells), ""]
    lines += ["## Cause not found", ""]
    if by_kind[causes.CAUSE_NOT_FOUND]:
        lines += ["| family | claim | what was ruled out | script |", "|---|---|---|---|"]
        lines += [f"| {family} | {claim} | {table_cell(cell.get('cause text', ''))} | " + (f"[{Path(cell['repro']).name}]({cell['repro']})" if cell.get("repro") else "—")
                  + " |" for family, claim, cell in by_kind[causes.CAUSE_NOT_FOUND]]
    else:
        lines += ["None: every red cell's cause is shown."]
    return "\n".join(lines) + "\n"


def table_cell(text: str) -> str:
    """`text` as one cell of a Markdown table (the matrix's and the findings')."""
    return str(text).replace("|", "\\|").replace("\n", " ")
