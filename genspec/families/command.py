"""`genspec families`: the articles' general claims on every family this transformers maps to a causal LM.

    genspec families -o families/                     # every family: families/families.json, .md, .html
    genspec families --only llama,mamba,gpt2 -o out/  # a sample
    genspec families --shard 2/8 -o shard-2/          # one of 8 shares (a CI job each), joined by:
    genspec families --join shard-*/families.json -o families/

Each family gets a tiny checkpoint built from its own config (genspec/families/builds.py) and the proof run on it as a
user runs `genspec --model DIR --claims …`: every general claim (GENERAL) gets the verdict the proof gives it — proven,
failed in its words, not applicable or cannot show, with the reason. A family that cannot be built tiny, or whose proof
cannot start, is a row with that one line. Each family runs in a process of its own (genspec/families/runs.py: a family's
crash or hang is its row, not the run's end), `-n` at a time.
"""

import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

import transformers

from genspec import usage
from genspec.families import findings, kept_rows
from genspec.families import runs as family_runs
from genspec.files import write_whole

REPRO = "repro"  # beside the matrix: a script per red cell that reproduces it without genspec

# The claims about every causal LM (shapes, causality, generation as a loop, what is kept between steps, the classifier).
GENERAL = ("S1", "S3", "S4", "S5", "K1", "K2", "K3", "K4", "G1", "G2", "G3", "G4", "G6", "G8", "G10", "C1", "C2", "C3")
SYMBOL = {"proven": "✅", "failed": "❌", family_runs.ONE_BUILD_ONLY: "⚠️", family_runs.UNCONFIRMED: "❓", family_runs.FLOAT32_ROUNDING: "〰️",
          "refuted": "⛔", "cannot show": "❔", "not applicable": "➖", "skipped": "⏭", "not run": "·",
          "not covered": "∅"}


def say_row(row: dict) -> None:
    print(f"{row['family']}: {row['row']}" + (f" — {row['reason']}" if "reason" in row else
                                              " " + "".join(SYMBOL.get(cell["status"], "?") for cell in row["claims"].values())), flush=True)


# The verdicts a cell can have, in the order the page counts them.
STATUSES = ("proven", "failed", family_runs.ONE_BUILD_ONLY, family_runs.UNCONFIRMED, family_runs.FLOAT32_ROUNDING, "cannot show",
            "not applicable", "refuted", "skipped", "not run")
MEANING = {
    "proven": "the claim holds on the family's tiny build",
    "failed": "red: red on at least two independent builds, and in float64 too where float64 could judge (its kind and cause below)",
    family_runs.ONE_BUILD_ONLY: "red on the first build only, proven on the other builds it was judged on: the build's, not the family's",
    family_runs.UNCONFIRMED: "red on the first build; no second build could judge it",
    family_runs.FLOAT32_ROUNDING: "red in float32, proven on the same build in float64: rounding the build amplified",
    "cannot show": "the family has the part, but what its build does cannot decide the claim (the reason below)",
    "not applicable": "a part of the articles the family does not have (001's classifier without a classification model)",
}


def to_markdown(matrix: dict) -> str:
    rows = matrix["families"]
    proven_on = [row for row in rows if row["row"] == "proven on"]
    cells = [(row["family"], claim, row["claims"].get(claim, {"status": "not run"})) for row in proven_on for claim in GENERAL]
    shown = [status for status in STATUSES if any(cell["status"] == status for _, _, cell in cells)]
    red = [(family, claim, cell) for family, claim, cell in cells if cell["status"] == "failed"]
    kinds = Counter(cell.get("kind", "not judged") for _, _, cell in red)
    lines = [f"# The general claims on every family of transformers {matrix['transformers']}", "",
             (f"{len(rows)} families map to a causal LM; {len(proven_on)} built tiny and proven on, "
              f"{len(rows) - len(proven_on)} not (below, each with its reason). Each cell is the proof's verdict."), "",
             f"{len(red)} red cell{'' if len(red) == 1 else 's'}: " + ", ".join(f"{count} {kind}" for kind, count in kinds.most_common())
             + " — each explained in [findings.md](findings.md).", "",
             "| | verdict | what it means |", "|---|---|---|"]
    lines += [f"| {SYMBOL[status]} | {status} | {MEANING.get(status, '')} |" for status in shown]
    lines += ["", "| claim | " + " | ".join(f"{SYMBOL[status]} {status}" for status in shown) + " |", "|---|" + "---|" * len(shown)]
    for claim in GENERAL:
        counts = Counter(row["claims"].get(claim, {}).get("status", "not run") for row in proven_on)
        lines.append(f"| {claim} | " + " | ".join(str(counts[status]) for status in shown) + " |")
    lines += ["", "| family | " + " | ".join(GENERAL) + " |", "|---|" + "---|" * len(GENERAL)]
    lines += [f"| {row['family']} | " + " | ".join(SYMBOL.get(row["claims"].get(claim, {}).get("status", "not run"), "?") for claim in GENERAL) + " |"
              for row in proven_on]
    unbuilt = [row for row in rows if row["row"] != "proven on"]
    if unbuilt:
        lines += ["", "## Not built or not loaded, each with its reason", "", "| family | row | reason |", "|---|---|---|"]
        lines += [f"| {row['family']} | {row['row']} | {findings.table_cell(row['reason'])} |" for row in unbuilt]
    if red:
        lines += ["", "## Every red cell, its kind and its cause", "",
                  ("Red on independent builds (other seeds, other weights: the hashes are in the JSON), judged again in float64 on the "
                   "same build where float64 can judge, and reproduced by a script that needs torch and transformers alone: it exits 1 "
                   "while the finding holds, 0 once a release removes it. A defect's counter-patch is beside its script."), "",
                  "| family | claim | kind | cause | the proof's verdict | float64 | reproduce |", "|---|---|---|---|---|---|---|"]
        lines += [f"| {family} | {claim} | {cell.get('kind', '')} | "
                  + (f"[{cell['cause']}](findings.md#{cell['cause']})" if cell.get("cause") and cell.get("kind") != "cause not found"
                     else findings.table_cell(cell.get("cause text", ""))[:200])
                  + f" | {findings.table_cell(cell['detail'][:300])} | {findings.table_cell(cell.get('float64', '—')[:160])} | "
                  + (f"[{Path(cell['repro']).name}]({cell['repro']})" if cell.get("repro") else "—") + " |" for family, claim, cell in red]
    apart = (
        (family_runs.FLOAT32_ROUNDING, "Float32 rounding amplified by the build", "float32's verdict and float64's"),
        (family_runs.ONE_BUILD_ONLY, "Red on one build only", "the verdicts, build by build"),
        (family_runs.UNCONFIRMED, "Unconfirmed", "the first build's verdict, and why no second judged it"),
        ("cannot show", "Cannot show, each with its reason", "why the build cannot decide the claim"),
    )
    for status, title, column in apart:
        listed = [(family, claim, cell["detail"]) for family, claim, cell in cells if cell["status"] == status]
        if listed:
            lines += ["", f"## {title}", "", f"{SYMBOL[status]} {MEANING[status]}.", "", f"| family | claim | {column} |", "|---|---|---|"]
            lines += [f"| {family} | {claim} | {findings.table_cell(detail[:600])} |" for family, claim, detail in listed]
    return "\n".join(lines) + "\n"


def write(matrix: dict, output: Path) -> list[Path]:
    from genspec.reports import html_page

    output.mkdir(parents=True, exist_ok=True)
    paths = [output / "families.json", output / "families.md", output / "families.html", output / "findings.md"]
    write_whole(paths[0], json.dumps(matrix, indent=1, ensure_ascii=False) + "\n")
    write_whole(paths[1], to_markdown(matrix))
    write_whole(paths[3], findings.to_markdown(matrix))
    grid = [(row["family"], row["row"], [row["claims"].get(claim, {}).get("status", "not run") if row["row"] == "proven on" else row["row"]
                                         for claim in GENERAL]) for row in matrix["families"]]
    links = [[row["claims"].get(claim, {}).get("repro") if row["row"] == "proven on" else None for claim in GENERAL] for row in matrix["families"]]
    write_whole(paths[2], html_page.grid(f"The general claims on every family of transformers {matrix['transformers']}", list(GENERAL), grid,
                                         links))
    return paths


@usage.command("genspec families")
def main(argv=None) -> int:
    parser = usage.Parser(prog="genspec families", description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=Path("families"), help="where families.json, .md and .html go (default: ./families)")
    parser.add_argument("--only", help="these families only (model types, comma-separated)")
    parser.add_argument("--shard", help="I/N: the I-th of N equal shares of the families (1-based), for N jobs")
    parser.add_argument("--join", nargs="+", type=Path, metavar="MATRIX", help="join shards' families.json into one matrix; nothing is run")
    parser.add_argument("-n", "--workers", type=int, default=os.cpu_count() or 1, help="families proven at once (default: the cores)")
    parser.add_argument("--stand-in-cache", help="where stand-ins are built (default: genspec's)")
    parser.add_argument("--scripts-python", default=sys.executable, metavar="PYTHON",
                        help="the Python that runs each defect's script and counter-patch, as a maintainer would (default: this one; "
                             "one whose environment holds only torch and transformers shows they need nothing else)")
    arguments = parser.parse_args(argv)
    if arguments.join:
        matrix = _joined(arguments.join, arguments.output)
    else:
        from genspec.families.builds import model_types

        chosen = _chosen(model_types(), arguments.only, arguments.shard)
        rows = {family: row for family in chosen if (row := kept_rows.kept(arguments.output, family, GENERAL)) is not None}
        if rows:
            print(f"kept from an earlier run with the same transformers, torch and genspec (in {arguments.output / kept_rows.FOLDER}): "
                  f"{len(rows)} of {len(chosen)} families", flush=True)
        with tempfile.TemporaryDirectory(prefix="genspec-families-") as scratch:
            def ended(row: dict) -> None:  # kept at once: a run stopped later goes on from here
                kept_rows.keep(arguments.output, row, GENERAL)
                say_row(row)

            waiting = [family for family in chosen if family not in rows]
            for row in family_runs.run(waiting, Path(scratch), max(1, arguments.workers), arguments.stand_in_cache, GENERAL, ended):
                rows[row["family"]] = row
        matrix = {"transformers": transformers.__version__, "general_claims": list(GENERAL), "families": [rows[family] for family in chosen]}
    write_scripts(matrix, arguments.output)
    findings.judge(matrix, arguments.output, python=arguments.scripts_python, workers=max(1, arguments.workers))
    for path in write(matrix, arguments.output):
        print(f"written: {path}")
    return 0


def _chosen(every: list[str], only: str | None, shard: str | None) -> list[str]:
    chosen = every
    if only:
        asked = [name.strip() for name in only.split(",") if name.strip()]
        unknown = [name for name in asked if name not in every]
        if unknown:
            raise usage.UsageError(f"--only: {', '.join(unknown)} not among the {len(every)} families transformers "
                                   f"{transformers.__version__} maps to a causal LM")
        chosen = asked
    if shard:
        try:
            index, count = (int(part) for part in shard.split("/"))
        except ValueError:
            raise usage.UsageError(f"--shard {shard}: write I/N, e.g. 2/8") from None
        if not 1 <= index <= count:
            raise usage.UsageError(f"--shard {shard}: I runs from 1 to N")
        chosen = chosen[index - 1::count]
    return chosen


def write_scripts(matrix: dict, output: Path) -> None:
    """repro/<family>-<claim>.py for each red cell, written from what its row keeps (genspec/families/scripts.py), named in the
    cell; a script no red cell names any more is removed."""
    from genspec.families import scripts
    from genspec.run import claims

    catalogue, written = claims.catalogue(), set()
    for row in matrix["families"]:
        for claim, cell in row.get("claims", {}).items():
            if cell["status"] == "failed" and "script inputs" in row:
                name = f"{REPRO}/{row['family']}-{claim}.py"
                write_whole(output / name, scripts.script(row["family"], claim, catalogue[claim].claim, cell["detail"], row["script inputs"],
                                                          matrix["transformers"]))
                cell["repro"] = name
                written.add(output / name)
    for stale in sorted((output / REPRO).glob("*.py")) if (output / REPRO).is_dir() else []:
        if stale not in written:
            stale.unlink()


def _joined(paths: list[Path], output: Path) -> dict:
    matrices = []
    for path in paths:
        try:
            matrices.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as error:
            raise usage.UsageError(f"{path}: not a families matrix ({error})") from None
    releases = {matrix.get("transformers") for matrix in matrices}
    if len(releases) != 1 or not all("families" in matrix for matrix in matrices):
        raise usage.UsageError(f"--join: shards of one release's families matrix only (found {sorted(map(str, releases))})")
    rows = sorted((row for matrix in matrices for row in matrix["families"]), key=lambda row: row["family"])
    return {"transformers": releases.pop(), "general_claims": list(GENERAL), "families": rows}
