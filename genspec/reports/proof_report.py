"""The proof report: every catalogued claim, the tests that name it, and what they showed.

At the end of a run it prints one table — claim, kind, status, detail — where a status is
proven, failed (with evidence), refuted (a strict xfail: found not to hold), skipped (with the
reason), not run (deselected) or not covered (no test names it). `--claims-report PATH` writes
the same as PATH (JSON, with every observation and the environment), PATH with .md (tables, and the
pictures as Mermaid blocks GitHub renders) and PATH with .html (a self-contained page, pictures drawn).
The terminal table uses `rich` where the terminal shows colour, plain lines otherwise (CI logs).
"""

import itertools
import json
import platform
import re
from collections import defaultdict
from pathlib import Path

import pytest
import tokenizers
import torch
import transformers

from genspec import SPEC
from genspec.files import write_whole
from genspec.reports import crashes, html_page, pictures
from genspec.reports.snapshots import DAMAGED
from genspec.run import applicability, claims, options
from genspec.run.hub_kernels import KERNEL_USE_KEY
from genspec.run.loading import kernels_line

CLAIM_MARKER = re.compile(r"mark\.claim\(([^)]*)\)")
STATUS_ORDER = ("failed", "damaged recording", "refuted", "cannot show", "proven", "not applicable", "skipped", "not run", "not covered")
# An assertion's class before its message says nothing to a reader; any other exception's class does (RuntimeError: …).
ASSERTION_NAME = re.compile(r"^(?:[\w.]+\.)?(?:AssertionError|Failed): ")
WHOLE = ("failed", "damaged recording")  # statuses whose detail the terminal shows whole
TEST_PROPERTY = "genspec-test"  # a test's claims and layer, as its reports carry them
CRASH_PROPERTY = "crash in transformers"  # a test's exception raised inside transformers, in words (reports/crashes.py)


class ProofReport:
    def __init__(self, config):
        self.config = config
        self.tests: dict[str, dict] = {}

    def pytest_collection_modifyitems(self, items):
        for item in items:
            named = claims.claims_of(item)
            test = {"claims": [c.id for c in named], "layer": "article" if applicability.is_article_part(item, named) else "general"}
            # Carried by every report of the test: under pytest-xdist the reporting process collects nothing itself.
            item.user_properties.append((TEST_PROPERTY, test))
            self.tests[item.nodeid] = _new_entry(test)

    def pytest_deselected(self, items):
        for item in items:
            self.tests.pop(item.nodeid, None)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        crash = crashes.inside_transformers(call.excinfo) if call.excinfo is not None else None
        if crash:  # carried by the report, as every property: the verdict reads it in place of the bare exception
            item.user_properties.append((CRASH_PROPERTY, crash))
        return (yield)

    def pytest_runtest_logreport(self, report):
        test = self.tests.get(report.nodeid)
        if test is None:
            carried = dict(report.user_properties).get(TEST_PROPERTY)
            if carried is None:
                return
            test = self.tests[report.nodeid] = _new_entry(carried)
        if report.when == "call":  # every phase's report repeats the properties recorded so far
            test["observations"] = [value for name, value in report.user_properties if name == "observation"]
            test["evidence"] = [value for name, value in report.user_properties if name == "evidence"]
            test["pictures"] = [value for name, value in report.user_properties if name == "picture"]
            test["judged_by"] = [value for name, value in report.user_properties if name == "judged by"]
        outcome, detail = _outcome(report)
        if outcome is None:
            return
        # A failure in any phase outlives a later pass; otherwise the call phase decides.
        if test["outcome"] != "failed" or outcome == "failed":
            test["outcome"], test["detail"] = outcome, detail

    def claim_rows(self) -> list[dict]:
        by_claim = defaultdict(list)
        for nodeid, test in self.tests.items():
            for claim_id in test["claims"]:
                by_claim[claim_id].append((nodeid, test))
        rows = []
        for claim in claims.catalogue().values():
            named = by_claim.get(claim.id, [])
            status, detail = _claim_status(named, claim.id in named_in_source())
            rows.append({"id": claim.id, "kind": claim.kind, "where": claim.where, "claim": claim.claim,
                         "status": status, "detail": detail, "tests": [nodeid for nodeid, _ in named]})
        return rows

    def environment(self) -> dict:
        settings, source = self.config.stash[options.SETTINGS_KEY], self.config.stash[options.SOURCE_KEY]
        return {
            "model": source.requested, "identity": source.identity, "revision": source.revision,
            "weights_sha256": source.weights_sha256, "fell_back": source.unavailable,
            "dtype": settings.dtype, "device": settings.device,
            "python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
            "kernels": self.config.stash.get(KERNEL_USE_KEY, None) or kernels_line(settings.kernels),
            **generation_settings(source.path),
        }

    def pytest_terminal_summary(self, terminalreporter):
        if hasattr(self.config, "workerinput"):
            return  # a pytest-xdist worker: the controller, which receives every report, writes the one report
        if not any(test["claims"] for test in self.tests.values()):
            return  # a run of benchmarks or helpers only: no claim was on trial
        rows = self.claim_rows()
        environment = self.environment()
        write = terminalreporter.write_line
        terminalreporter.section(f"genspec proof: {environment['identity']}, {environment['dtype']}, {environment['device']}")
        if KERNEL_USE_KEY in self.config.stash:  # what ran, where the run asked for hub kernels
            write(self.config.stash[KERNEL_USE_KEY])
        colours = {"proven": "green", "failed": "red", "damaged recording": "red", "refuted": "yellow", "cannot show": "purple", "skipped": "yellow",
                   "not applicable": "cyan"}
        if terminalreporter.hasmarkup:  # a terminal that shows colour: the table as the articles print theirs, with rich
            terminalreporter.write(rich_table(rows, colours, self.config.get_terminal_writer().fullwidth))
        else:  # CI logs, pipes, --color=no: plain lines, one per claim
            for row in rows:
                line = f"{row['id']:<4} {row['kind']:<20} {row['status']:<14} {_shown_detail(row)}"
                terminalreporter.write_line(line, **{colours.get(row["status"], "white"): True})
        counts = {status: sum(row["status"] == status for row in rows) for status in STATUS_ORDER}
        write(", ".join(f"{count} {status}" for status, count in counts.items() if count))
        write(proven_of_applying(rows))
        path = self.config.getoption(options.CLAIMS_REPORT)
        if path:
            written = write_reports(Path(path), environment, rows, self.tests)
            write("claims report: " + ", ".join(str(each) for each in written))


def proven_of_applying(rows: list[dict]) -> str:
    """How much of the proof this run reached: claims proven of those that apply to the model (all but the not applicable, on
    the articles' model all of them; the claims left out by --claims not counted)."""
    applying = [row for row in rows if row["status"] not in ("not applicable", "not run")]
    proven = sum(row["status"] == "proven" for row in applying)
    others = {status: sum(row["status"] == status for row in applying) for status in STATUS_ORDER if status != "proven"}
    rest = ", ".join(f"{count} {status}" for status, count in others.items() if count)
    return f"proven: {proven} of the {len(applying)} claims that apply to this model" + (f" ({rest})" if rest else "")


def generation_settings(checkpoint: Path) -> dict:
    """The checkpoint's generation_config.json as `generation_config.<key>` entries: what generate() and G5–G7 sample with,
    so a changed temperature shows in the regression report beside the weights' hash (transformers_version, which
    only says which release wrote the file, left out)."""
    try:
        settings = json.loads((Path(checkpoint) / "generation_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {f"generation_config.{key}": value for key, value in settings.items() if key != "transformers_version"}


def rich_table(rows: list[dict], colours: dict, width: int) -> str:
    """The proof table drawn by rich (001 prints its tables with it), as the text with colour codes to write."""
    from rich.console import Console
    from rich.table import Table

    table = Table("claim", "kind", "status", "detail", box=None, pad_edge=False)
    for row in rows:
        table.add_row(row["id"], row["kind"], f"[{colours.get(row['status'], 'white')}]{row['status']}[/]", _shown_detail(row, 160))
    console = Console(force_terminal=True, width=width, color_system="standard", highlight=False)
    with console.capture() as captured:
        console.print(table)
    return captured.get()


def _shown_detail(row: dict, limit: int = 240) -> str:
    """A row's detail for the terminal: a failure whole, since it is what the user must act on; any other cut at `limit`."""
    text = row["detail"]
    if row["status"] in WHOLE or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def _new_entry(test: dict) -> dict:
    return {"claims": test["claims"], "layer": test["layer"], "outcome": "not run", "detail": "", "observations": [], "evidence": [],
            "pictures": [], "judged_by": []}


def _outcome(report):
    if report.when == "call" and hasattr(report, "wasxfail"):
        return ("refuted", report.wasxfail) if report.skipped else ("failed", f"XPASS(strict): {report.wasxfail}")
    if report.failed:
        crash = [value for name, value in report.user_properties if name == CRASH_PROPERTY]
        failure = crash[-1] if crash else _failure(report)
        if failure.startswith(DAMAGED):  # the file is damaged, not the claim refuted
            return "damaged recording", failure.removeprefix(DAMAGED)
        return "failed", failure
    if report.skipped:
        reason = (report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)).removeprefix("Skipped: ")
        for status, prefix in (("not applicable", applicability.NOT_APPLICABLE), ("cannot show", applicability.CANNOT_SHOW)):
            if reason.startswith(prefix):
                return status, reason.removeprefix(prefix)
        return "skipped", reason
    if report.when == "call":
        return "passed", ""
    return None, None


def _failure(report) -> str:
    """The failure's own message, without pytest's restatement of the assert (`assert 55214 == 9707`) when it has one."""
    crash = getattr(report.longrepr, "reprcrash", None)
    lines = ASSERTION_NAME.sub("", crash.message if crash else str(report.longrepr), count=1).splitlines()
    own = list(itertools.takewhile(lambda line: not line.lstrip().startswith("assert "), lines))
    return " ".join(line.strip() for line in own or lines[:1])


def named_in_source() -> set[str]:
    """Claim ids named by a claim marker anywhere in the test modules, collected or not."""
    found = set()
    for module in SPEC.glob("test_*.py"):
        for arguments in CLAIM_MARKER.findall(module.read_text(encoding="utf-8")):
            found |= set(re.findall(r"[\"']([A-Z]\d+)[\"']", arguments))
    return found


def _claim_status(named, exists_elsewhere) -> tuple[str, str]:
    if not named:
        return ("not run", "not selected in this run") if exists_elsewhere else ("not covered", "no test names this claim")
    outcomes = [test["outcome"] for _, test in named]
    for wanted, status in (("failed", "failed"), ("damaged recording", "damaged recording"), ("refuted", "refuted"), ("cannot show", "cannot show")):
        hits = [test for _, test in named if test["outcome"] == wanted]
        if hits:
            return status, hits[0]["detail"]
    passed = outcomes.count("passed")
    if passed:
        general = [test for _, test in named if test.get("layer") != "article"]
        article = [test for _, test in named if test.get("layer") == "article"]
        found = dict.fromkeys(line for _, test in named for line in test.get("evidence", []))  # each line once, in order
        tests = f"{passed} test{'s' if passed > 1 else ''}"
        skipped = sum(test["outcome"] == "skipped" for test in general)
        layers = f", {skipped} skipped" if skipped else ""
        absent = [test for test in general if test["outcome"] == "not applicable"]  # a part this family lacks (a key/value cache)
        if absent:
            layers += f", {len(absent)} not applicable ({absent[0]['detail']})"
        if article and general:
            layers += f"; the article's numbers: {_layer_status(article)}"
        return "proven", tests + layers + "".join(f"; {line}" for line in found)
    for wanted in ("not applicable", "skipped"):
        hits = [test for _, test in named if test["outcome"] == wanted]
        if hits:
            return wanted, hits[0]["detail"]
    return "not run", ""


def _layer_status(tests) -> str:
    """The article's numbers for a claim whose general form was proven: proven, or why they were not judged."""
    if all(test["outcome"] == "passed" for test in tests):
        return "proven"
    other = next(test for test in tests if test["outcome"] != "passed")
    return f"{other['outcome']} ({other['detail']})" if other["detail"] else other["outcome"]


def write_reports(path: Path, environment: dict, rows: list[dict], tests: dict) -> tuple[Path, Path, Path]:
    path.parent.mkdir(parents=True, exist_ok=True)
    report = {"environment": environment, "claims": rows, "tests": tests}
    write_whole(path, json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    markdown, page = path.with_suffix(".md"), path.with_suffix(".html")
    write_whole(markdown, to_markdown(environment, rows, tests))
    write_whole(page, html_page.render(environment, rows, tests))
    return path, markdown, page


def to_markdown(environment: dict, rows: list[dict], tests: dict) -> str:
    lines = ["# genspec proof report", "", "| setting | value |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in environment.items() if value is not None]
    lines += ["", proven_of_applying(rows), "", "| claim | kind | status | detail | where |", "|---|---|---|---|---|"]
    lines += [f"| {r['id']} | {r['kind']} | {r['status']} | {_cell(r['detail'])} | {r['where']} |" for r in rows]
    drawn = [(row, pictures.of_claim(row, tests)) for row in rows]
    drawn = [(row, found) for row, found in drawn if found]
    if drawn:
        lines += ["", "## What the run observed, drawn as the articles draw it"]
        for row, found in drawn:
            lines += ["", f"### {row['id']} {row['status']}: {row['claim']}", "", *(pictures.to_markdown(picture) for picture in found)]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    if not config.option.help:
        config.pluginmanager.register(ProofReport(config), "genspec-proof-report")

