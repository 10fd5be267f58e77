"""Combine claims reports from several transformers versions into one Markdown matrix (and, with -o, a coloured HTML grid).

    genspec matrix reports/*.json -o reports/matrix.md      # also reports/matrix.html

Rows are claims, columns versions; below, what each version actually does for the
version-dependent claims (X1-X3, A7), read from the observations the tests recorded.
"""

import sys
from pathlib import Path

from packaging.version import Version

from genspec import usage
from genspec.reports import html_page
from genspec.reports.regression import load
from genspec.reports.release_recordings import Releases

SYMBOL = {"proven": "✅ proven", "failed": "❌ failed", "damaged recording": "🩹 damaged recording", "refuted": "⛔ refuted", "cannot show": "❔ cannot show", "skipped": "⏭ skipped", "not applicable": "➖ not applicable",
          "not run": "· not run", "not covered": "∅ not covered"}
# For the version claims: which test's observation shows what the version does, and which key.
BEHAVIOUR = [
    ("X1", "print(model) act_fn", "spec/test_versions.py::test_printed_activation_depends_on_the_version", "act_fn"),
    ("X2", "apply_chat_template(return_tensors='pt') returns", "spec/test_versions.py::test_apply_chat_template_return_type_depends_on_the_version", "returns"),
    ("X3", "default load dtype", "spec/test_versions.py::test_default_load_dtype_depends_on_the_version", "default dtype"),
    ("A7", "embed_tokens and a different lm_head tied", "spec/test_architecture.py::test_embeddings_and_head_tied_as_the_version_does", "tied"),
    ("A7", "tied-weights warning of 001", "spec/test_architecture.py::test_embeddings_and_head_tied_as_the_version_does", "warned"),
]


@usage.command("genspec matrix")
def main(argv=None) -> int:
    parser = usage.Parser(prog="genspec matrix", description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", type=Path)
    parser.add_argument("-o", "--output", type=Path)
    arguments = parser.parse_args(argv)
    reports = sorted((load(path) for path in arguments.reports), key=lambda report: Version(report["environment"]["transformers"]))
    versions = [report["environment"]["transformers"] for report in reports]
    lines = ["# Claims across transformers versions", "",
             (f"Model {reports[0]['environment']['identity']}, {reports[0]['environment']['dtype']}, "
             f"{reports[0]['environment']['device']}; torch {reports[0]['environment']['torch']}."), "",
             "| claim | kind | " + " | ".join(versions) + " |", "|---|---|" + "---|" * len(versions)]
    for index, row in enumerate(reports[0]["claims"]):
        cells = [SYMBOL.get(report["claims"][index]["status"], report["claims"][index]["status"]) for report in reports]
        lines.append(f"| {row['id']} | {row['kind']} | " + " | ".join(cells) + " |")
    lines += ["", "## What each version does", "", "| claim | behaviour | " + " | ".join(versions) + " |",
              "|---|---|" + "---|" * len(versions)]
    for claim_id, behaviour, nodeid, key in BEHAVIOUR:
        cells = [_observed(report, nodeid, key) for report in reports]
        lines.append(f"| {claim_id} | {behaviour} | " + " | ".join(cells) + " |")
    lines += ["", "## Which recording judged each release", "",
              "Snapshots are recorded per transformers release range where a release changes an observation; a release",
              "inside a range is judged by it, one outside every range by the nearest (genspec/reports/release_recordings.py).", "",
              "| recorded for | " + " | ".join(versions) + " |", "|---|" + "---|" * len(versions)]
    judged = [_judged_by(report) for report in reports]
    for label in sorted({label for counts in judged for label in counts}, key=_range_start):
        lines.append(f"| {label} | " + " | ".join(f"{counts[label]} observations" if label in counts else "—" for counts in judged) + " |")
    refuted = [(version, row) for version, report in zip(versions, reports, strict=False) for row in report["claims"] if row["status"] in ("refuted", "failed")]
    if refuted:
        lines += ["", "## Evidence for claims that do not hold", ""]
        lines += [f"- **{row['id']}** on {version} ({row['status']}): {row['detail']}" for version, row in refuted]
    markdown = "\n".join(lines) + "\n"
    if arguments.output:
        arguments.output.write_text(markdown, encoding="utf-8")
        grid = [(row["id"], row["kind"], [report["claims"][index]["status"] for report in reports]) for index, row in enumerate(reports[0]["claims"])]
        arguments.output.with_suffix(".html").write_text(html_page.grid("Claims across transformers versions", versions, grid), encoding="utf-8")
    else:
        sys.stdout.write(markdown)
    return 0


def _judged_by(report: dict) -> dict[str, int]:
    """How many of the run's compared observations each recorded release range judged."""
    counts: dict[str, int] = {}
    for test in report["tests"].values():
        for label in test.get("judged_by", []):
            counts[label] = counts.get(label, 0) + 1
    return counts


def _range_start(label: str) -> Version:
    return Releases.parse(label).first


def _observed(report: dict, nodeid: str, key: str) -> str:
    test = report["tests"].get(nodeid)
    if not test or not test["observations"]:
        return "—"
    return f"`{test['observations'][0].get(key, '—')}`"


if __name__ == "__main__":
    sys.exit(main())
