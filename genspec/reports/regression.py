"""Compare two claims reports (before and after a model or library update) and write Markdown.

    genspec regression BEFORE.json AFTER.json [-o REPORT.md] [--fail-on-drift]

The report lists claims whose status changed, observations that drifted (largest absolute and
relative deltas, top-1 flips, changed ids and texts) and how the environments differ. Exit status:
1 when a claim is worse than before (or, with --fail-on-drift, when any observation drifted), else 0.
"""

import json
import sys
from pathlib import Path

from genspec import usage
from genspec.files import write_whole
from genspec.reports import observations
from genspec.run.tolerances import snapshot_tolerance

# Lower is better; a claim regressed when its rank grows.
RANK = {"proven": 0, "refuted": 1, "cannot show": 1, "not applicable": 1, "skipped": 1, "not run": 1, "not covered": 2, "damaged recording": 2, "failed": 3}


def families_changes(before: dict, after: dict) -> str:
    """Two families matrices (genspec families, two releases): the cells that moved, with both verdicts."""
    moved = moved_cells(before, after)
    old, new = ({row["family"] for row in matrix["families"]} for matrix in (before, after))
    lines = ["# genspec regression report: the families matrix", "",
             (f"transformers {before['transformers']} before, {after['transformers']} after: {len(moved)} cell{'s' if len(moved) != 1 else ''} moved "
             f"in the {len(old & new)} families both have."), ""]
    for label, families in (("New in the later release", new - old), ("Gone from it", old - new)):
        if families:
            lines += [f"{label}: {', '.join(sorted(families))}.", ""]
    if moved:
        lines += ["| family | claim | before | after |", "|---|---|---|---|"]
        lines += [f"| {cell['family']} | {cell['claim']} | {_cell(cell['before'][:300])} | {_cell(cell['after'][:300])} |" for cell in moved]
    return "\n".join(lines) + "\n"


def moved_cells(before: dict, after: dict) -> list[dict]:
    """The cells whose verdict differs between two families matrices (two releases), with both verdicts."""
    old = {row["family"]: row for row in before["families"]}
    moved = []
    for row in after["families"]:
        was = old.get(row["family"])
        if was is None:  # a family new in this release: a row of its own, not a move
            continue
        for claim in after["general_claims"]:
            verdicts = [_verdict(each, claim) for each in (was, row)]
            if verdicts[0].split(":")[0] != verdicts[1].split(":")[0]:  # the verdict moved, not only its wording
                moved.append({"family": row["family"], "claim": claim, "before": verdicts[0], "after": verdicts[1]})
    return moved


def _verdict(row: dict, claim: str) -> str:
    if row["row"] != "proven on":
        return f"{row['row']}: {row['reason']}"
    cell = row["claims"].get(claim, {"status": "not run", "detail": ""})
    return cell["status"] + (f": {cell['detail']}" if cell["status"] not in ("proven",) and cell["detail"] else "")


def load(path: Path) -> dict:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise usage.UsageError(f"{path}: not a readable claims report ({error}); write one with genspec --claims-report PATH") from None
    if isinstance(report, dict) and "families" in report:
        return report
    if not isinstance(report, dict) or not {"environment", "claims", "tests"} <= set(report):
        raise usage.UsageError(f"{path}: not a claims report (it has no environment, claims and tests); write one with genspec --claims-report PATH")
    return report


def status_changes(before: dict, after: dict) -> list[dict]:
    old = {row["id"]: row for row in before["claims"]}
    changes = []
    for row in after["claims"]:
        was = old.get(row["id"], {"status": "not covered", "detail": ""})
        if was["status"] != row["status"]:
            changes.append({"id": row["id"], "before": was["status"], "after": row["status"], "detail": row["detail"],
                            "regressed": RANK[row["status"]] > RANK[was["status"]]})
    return changes


def drifts(before: dict, after: dict) -> list[dict]:
    # The baseline's tolerance: drift is measured against what the earlier run would accept.
    atol, rtol = snapshot_tolerance(before["environment"]["dtype"], before["environment"]["device"])
    found = []
    for nodeid, test in after["tests"].items():
        old = before["tests"].get(nodeid)
        if not old:
            continue
        for _index, (recorded, observed) in enumerate(zip(old["observations"], test["observations"], strict=False)):
            for drift in observations.compare(recorded, observed, atol, rtol, strict_dtype=False):
                found.append({"test": nodeid, "claims": test["claims"], "path": drift.path, "message": drift.message,
                              "numeric": drift.numeric})
    return found


def environment_changes(before: dict, after: dict) -> list[tuple[str, object, object]]:
    keys = list(dict.fromkeys(list(before["environment"]) + list(after["environment"])))
    return [(key, before["environment"].get(key), after["environment"].get(key)) for key in keys
            if before["environment"].get(key) != after["environment"].get(key)]


def weights_verdict(before: dict, after: dict) -> str | None:
    """"Same weights" or "weights changed", by the weights' content hashes; None where a report has none."""
    hashes = before["environment"].get("weights_sha256"), after["environment"].get("weights_sha256")
    if None in hashes:
        return None
    if hashes[0] != hashes[1]:
        return f"Weights changed: sha256 {hashes[0][:12]} before, {hashes[1][:12]} after."
    return f"Same weights (sha256 {hashes[0][:12]})."


def to_markdown(changes, moved, environment, weights: str | None = None) -> str:
    lines = ["# genspec regression report", ""]
    lines += ["## Environment", ""]
    if weights:
        lines += [weights, ""]
    if environment:
        lines += ["| setting | before | after |", "|---|---|---|"] + [f"| {k} | {b} | {a} |" for k, b, a in environment]
    else:
        lines += ["No difference."]
    lines += ["", "## Claims whose status changed", ""]
    if changes:
        lines += ["| claim | before | after | detail |", "|---|---|---|---|"]
        lines += [f"| {c['id']}{' ⚠' if c['regressed'] else ''} | {c['before']} | {c['after']} | {_cell(c['detail'])} |" for c in changes]
    else:
        lines += ["None."]
    lines += ["", "## Observations that drifted", ""]
    if moved:
        lines += ["| claims | test | observation | drift |", "|---|---|---|---|"]
        lines += [f"| {', '.join(d['claims'])} | `{d['test']}` | {d['path']} | {_cell(d['message'])} |" for d in moved]
    else:
        lines += ["None beyond the baseline's tolerance."]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


@usage.command("genspec regression")
def main(argv=None) -> int:
    parser = usage.Parser(prog="genspec regression", description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("-o", "--output", type=Path, help="write the Markdown here (default: print it)")
    parser.add_argument("--fail-on-drift", action="store_true", help="exit 1 when any observation drifted too")
    arguments = parser.parse_args(argv)
    before, after = load(arguments.before), load(arguments.after)
    if ("families" in before) != ("families" in after):
        raise usage.UsageError("one is a families matrix (genspec families), the other a claims report: compare like with like")
    if "families" in before:
        markdown = families_changes(before, after)
        write_whole(arguments.output, markdown) if arguments.output else sys.stdout.write(markdown)
        return 0
    changes, moved, environment = status_changes(before, after), drifts(before, after), environment_changes(before, after)
    markdown = to_markdown(changes, moved, environment, weights_verdict(before, after))
    if arguments.output:
        write_whole(arguments.output, markdown)
    else:
        sys.stdout.write(markdown)
    regressed = any(change["regressed"] for change in changes) or (arguments.fail_on_drift and bool(moved))
    return 1 if regressed else 0


if __name__ == "__main__":
    sys.exit(main())
