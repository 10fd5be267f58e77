"""Each family of `genspec families` proven in a process of its own, forked from one that has already imported what every
family's proof needs.

A family's crash, hang or stray output is its row, never the run's end, so each family gets a fresh process. Started as a
new Python, each spent about 8 s importing torch, transformers and the proof's plugins, and about 8 s more building and
reading the stand-in's tokenizer twice, before its own work (measured on 2 cores). So the tokenizer is built once per run,
and the processes are forked from multiprocessing's fork server, which imports PRELOAD (and loads that tokenizer) once and
never computes (a process forked from one whose thread pools have run can hang); each runs the proof in-process, as
`genspec --model DIR --claims …` would. Its output goes to its log; what it found, to its row file.
"""

import json
import os
import re
import sys
import time
from multiprocessing import get_context
from pathlib import Path

from genspec.files import write_whole

PRELOAD = ["genspec.families.preload"]
PER_FAMILY_SECONDS = 600  # a family whose proof has not ended by then is a row that says so
ONE_BUILD_ONLY = "red on one build"  # red on the first build and on no other of the builds it was judged on: the build's, not the family's
UNCONFIRMED = "unconfirmed"  # red on the first build, and no second build could judge it: neither a finding nor the build's
FLOAT32_ROUNDING = "float32 rounding"  # red in float32, proven on the same build in float64: rounding the build amplified, never a finding
FLOAT64_CANNOT_JUDGE = "float64 cannot judge"  # float64 did not start, raised where float32 computed, or scored NaN: unarbitrated
BUILDS = 3  # a red cell is judged on up to this many independent builds: confirmed when red on at least two
# Red cells that compare two computations (every general claim but C1, which reads what a save stores): float64 judges them
# again on the same build, since float64 is the arbiter of whether a difference is rounding.
NOT_ARBITRATED = ("C1",)
POLL_SECONDS = 0.2


def run(model_types: list[str], workdir: Path, workers: int, cache_root: str | None, general: tuple[str, ...], on_row) -> list[dict]:
    """A row per family, in `model_types`' order; `workers` families at a time; `on_row(row)` as each ends."""
    from genspec.embedded.tokenizer import build_tokenizer
    from genspec.families.preload import TOKENIZER_VARIABLE

    os.environ["HF_HUB_OFFLINE"] = "1"  # tiny checkpoints on disk: nothing to fetch (the fork server keeps this environment)
    for key in [key for key in os.environ if key.startswith("GENSPEC_")]:  # the proof's settings are the command line's alone
        del os.environ[key]
    build_tokenizer(workdir / "tokenizer")
    os.environ[TOKENIZER_VARIABLE] = str(workdir / "tokenizer")
    context = get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    threads = max(1, (os.cpu_count() or 1) // workers)
    (workdir / "rows").mkdir(parents=True, exist_ok=True)
    (workdir / "logs").mkdir(exist_ok=True)
    waiting, running, rows = list(model_types), {}, {}
    while waiting or running:
        while waiting and len(running) < workers:
            model_type = waiting.pop(0)
            process = context.Process(target=_prove_here, args=(model_type, workdir, cache_root, general, threads), daemon=True)
            process.start()
            running[model_type] = (process, time.monotonic())
        time.sleep(POLL_SECONDS)
        for model_type, (process, started) in list(running.items()):
            if process.is_alive() and time.monotonic() - started < PER_FAMILY_SECONDS:
                continue
            if process.is_alive():
                process.kill()
            process.join()
            del running[model_type]
            rows[model_type] = ended_row(model_type, workdir, process.exitcode, round(time.monotonic() - started, 1))
            on_row(rows[model_type])
    return [rows[model_type] for model_type in model_types]


def ended_row(model_type: str, workdir: Path, exitcode: int | None, seconds: float) -> dict:
    """What the family's process found, or why it found nothing: killed at the time limit, or died (its log's last word)."""
    found = workdir / "rows" / f"{model_type}.json"
    if found.exists():
        return json.loads(found.read_text(encoding="utf-8")) | {"seconds": seconds}
    built = (workdir / "checkpoints" / model_type).exists()
    if exitcode is not None and exitcode < 0 and seconds >= PER_FAMILY_SECONDS:
        return {"family": model_type, "row": "timed out", "reason": f"its proof did not end within {PER_FAMILY_SECONDS} s", "seconds": seconds}
    log = (workdir / "logs" / f"{model_type}.log").read_text(encoding="utf-8", errors="replace").strip().splitlines() or ["no output"]
    return {"family": model_type, "row": "cannot load" if built else "cannot build tiny",
            "reason": f"its process died (exit code {exitcode}): {log[-1][:300]}", "seconds": seconds}


def _prove_here(model_type: str, workdir: Path, cache_root: str | None, general: tuple[str, ...], threads: int) -> None:
    """In the family's own process: its output to its log, its row to its row file."""
    log = open(workdir / "logs" / f"{model_type}.log", "w", encoding="utf-8")  # noqa: SIM115 (open for the process's life)
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    os.chdir(workdir)
    import torch

    torch.set_num_threads(threads)  # the cores shared among the families that run at once, not each taking all
    row = prove_family(model_type, workdir, cache_root, general)
    sys.stdout.flush()
    write_whole(workdir / "rows" / f"{model_type}.json", json.dumps(row))


def prove_family(model_type: str, workdir: Path, cache_root: str | None, general: tuple[str, ...]) -> dict:
    """One row: the family's tiny checkpoint built, the general claims proven on it, each verdict with its reason."""
    from genspec.families import builds as tiny

    directory = workdir / "checkpoints" / model_type
    try:
        tiny.write_tiny(model_type, directory, tokenizer_files=workdir / "tokenizer")
    except tiny.CannotBuild as reason:
        return {"family": model_type, "row": "cannot build tiny", "reason": str(reason)}
    claims = _verdicts(directory, workdir / "reports" / f"{model_type}.json", general, cache_root)
    if claims is None:
        said = _log_lines(workdir, model_type)
        reason = next((line for line in said if line.startswith("ERROR:")), said[-1] if said else "no output")
        return {"family": model_type, "row": "cannot load", "reason": reason[:300]}
    manifest = json.loads((directory / tiny.MANIFEST).read_text(encoding="utf-8"))
    row = {"family": model_type, "row": "proven on", "claims": claims, "recipe": manifest["recipe"], "builds": [build_of(directory)]}
    judge_red_cells(row, directory, workdir, cache_root)
    return row


def judge_red_cells(row: dict, directory: Path, workdir: Path, cache_root: str | None) -> None:
    """A red cell of the first build (in `directory`) is a finding only when float64 leaves it red on the same build and
    independent builds confirm it; each finding gets its reproduction."""
    red = [claim for claim, cell in row["claims"].items() if cell["status"] == "failed"]
    if red:
        _arbitrate_in_float64(row, red, directory, workdir, cache_root)
        red = [claim for claim in red if row["claims"][claim]["status"] == "failed"]
    if red:
        _judge_on_more_builds(row, red, workdir, cache_root)
    if any(cell["status"] == "failed" for cell in row["claims"].values()):
        _keep_script_inputs(row, directory, workdir)


def build_of(directory: Path) -> dict:
    """What identifies a tiny build: its seed, recipe, the hash of its weights and how float32 rounding moves its scores."""
    from genspec.families import builds as tiny

    manifest = json.loads((directory / tiny.MANIFEST).read_text(encoding="utf-8"))
    return {key: manifest[key] for key in ("seed", "recipe", "weights sha256", "float32 against float64")}


def _keep_script_inputs(row: dict, checkpoint: Path, workdir: Path) -> None:
    """What the red cells' scripts are written from (genspec/families/scripts.py), kept in the row: the command writes them, so a
    change to a script's template rewrites every script without proving a family again."""
    import transformers

    from genspec.embedded.tokenizer import preloaded
    from genspec.families import scripts

    tokenizer = preloaded(workdir / "tokenizer") or transformers.AutoTokenizer.from_pretrained(workdir / "tokenizer")
    row["script inputs"] = scripts.inputs(checkpoint, tokenizer)


def _verdicts(directory: Path, report: Path, claims: list[str] | tuple[str, ...], cache_root: str | None, dtype: str = "float32") -> dict | None:
    """The proof on the checkpoint in `directory`, as `genspec --model DIR --claims … --dtype …` runs it: each claim's verdict, or
    None where the proof did not start."""
    from genspec import cli

    arguments = ["-q", "-p", "no:cacheprovider", "--tb=line", f"--model={directory}", f"--claims={','.join(claims)}", "--snapshots=report",
                 f"--dtype={dtype}",
                 f"--claims-report={report}", *([f"--stand-in-cache={cache_root}"] if cache_root else [])]
    cli.prove(arguments)  # pytest.main: a usage error is its exit code and its ERROR line in the log, never an exception
    if not report.exists():
        return None
    return {row["id"]: {"status": row["status"], "detail": without_machine_paths(row["detail"], directory.parent.parent)}
            for row in json.loads(report.read_text(encoding="utf-8"))["claims"] if row["id"] in claims}


INSTALLED = re.compile(r"(?:/[^\s:'\"()]+)?/(?:site|dist)-packages/")  # where a machine keeps its packages, up to their names


def without_machine_paths(detail: str, workdir: Path) -> str:
    """A verdict as any machine would word it: packages named from their own folder (transformers/…, hypothesis/…), the
    family's scratch folder as `.`."""
    from genspec import PACKAGE  # an editable install runs genspec from its checkout: named from its own folder too

    detail = detail.replace(f"{PACKAGE.parent}/", "")
    return INSTALLED.sub("", detail.replace(f"{workdir}/", "").replace(str(workdir), "."))


def _arbitrate_in_float64(row: dict, red: list[str], directory: Path, workdir: Path, cache_root: str | None) -> None:
    """Each red cell that compares two computations, judged again on the same build in float64: proven there, it was float32
    rounding this build amplified (FLOAT32_ROUNDING, listed apart, never a finding); red there too, it says so. A float64 run
    that could not judge — it did not start, raised where float32 did not, or computed scores that are not finite — says
    FLOAT64_CANNOT_JUDGE with why, never "red in float64 too": the cell stays unarbitrated."""
    asked = [claim for claim in red if claim not in NOT_ARBITRATED]
    if not asked:
        return
    cells, family = row["claims"], row["family"]
    unmeasured = row["builds"][0]["float32 against float64"].get("not measured")
    exact = None if unmeasured else _verdicts(directory, workdir / "reports" / f"{family}-float64.json", asked, cache_root, dtype="float64")
    for claim in asked:
        cell, verdict = cells[claim], (exact or {}).get(claim)
        if verdict is None:
            cell["float64"] = f"{FLOAT64_CANNOT_JUDGE}: {unmeasured or 'the float64 proof did not start'}"
        elif verdict["status"] == "proven":
            cell["status"] = FLOAT32_ROUNDING
            cell["detail"] = (f"float32 rounding amplified by this build (float32: {cell['detail'][:400]}; float64, the same build: proven — "
                              f"{verdict['detail'][:300]})")
        elif verdict["status"] in ("cannot show", "not applicable"):
            cell["float64"] = f"{FLOAT64_CANNOT_JUDGE}: {verdict['status']} in float64 ({verdict['detail'][:300]})"
        elif (why := _float64_could_not_judge(cell["detail"], verdict["detail"])) is not None:
            cell["float64"] = f"{FLOAT64_CANNOT_JUDGE}: {why}"
        else:
            cell["float64"] = f"{verdict['status']} in float64 too, on the same build: {verdict['detail'][:300]}"


def _float64_could_not_judge(float32: str, float64: str) -> str | None:
    """Why float64's verdict says nothing of the claim, or None where it judged it: its scores were not finite, or transformers
    raised in float64 where float32 computed (the same raise in both is the same finding, judged)."""
    from genspec.reports.crashes import RAISED, raise_site
    from genspec.run.finite_scores import NOT_FINITE

    if float64.startswith(NOT_FINITE):
        return f"its scores are not finite ({float64[:240]})"
    if float64.startswith(RAISED) and raise_site(float64) != raise_site(float32):
        return f"float64 raised where float32 computed ({float64[:240]})"
    return None


def _judge_on_more_builds(row: dict, red: list[str], workdir: Path, cache_root: str | None) -> None:
    """A red cell is a finding about the family only if independent builds are red too: each next build draws from seeds no
    recipe of an earlier build tried, and one whose weights hash as an earlier one's is refused. Red on the second build:
    confirmed; not: a third decides (red on 2 of 3, confirmed; on 1 of 3, the first build's alone). No second build: unconfirmed."""
    from genspec.families import builds as tiny

    family, cells = row["family"], row["claims"]
    red_on = {claim: [1] for claim in red}  # per build judged: 1 red, 0 not
    undecided = list(red)
    for number in range(2, BUILDS + 1):
        seed = row["builds"][0]["seed"] + (number - 1) * len(tiny.SEED_SHIFTS)
        directory = workdir / "checkpoints" / f"{family}-build{number}"
        why_not = None
        try:
            tiny.write_tiny(family, directory, seed=seed, tokenizer_files=workdir / "tokenizer")
            build = build_of(directory)
            if any(build["weights sha256"] == earlier["weights sha256"] for earlier in row["builds"]):
                why_not = f"build {number} (seed {seed}) has the weights of an earlier build (sha256 {build['weights sha256'][:12]}): refused"
            else:
                row["builds"].append(build)
                again = _verdicts(directory, workdir / "reports" / f"{family}-build{number}.json", undecided, cache_root)
                why_not = None if again is not None else f"build {number}'s proof did not start ({_log_lines(workdir, family)[-1:]})"
        except tiny.CannotBuild as reason:
            why_not = f"build {number} (seed {seed}) cannot be built: {reason}"
        if why_not:
            row.setdefault("builds not judged", []).append(why_not)
            if number == 2:
                for claim in undecided:
                    cells[claim]["status"] = UNCONFIRMED
                    cells[claim]["detail"] += f" [unconfirmed: {why_not}]"
                return
            break
        for claim in undecided:
            red_on[claim].append(int(again.get(claim, {}).get("status") == "failed"))
            if red_on[claim][-1] == 0:
                cells[claim].setdefault("other builds", []).append(f"build {number}: {again.get(claim, {}).get('status', 'not run')}: "
                                                                   f"{again.get(claim, {}).get('detail', '')[:200]}")
        undecided = [claim for claim in undecided if sum(red_on[claim]) < 2 and len(red_on[claim]) < BUILDS]
        if not undecided:
            break
    for claim in red:
        cell, count, judged = cells[claim], sum(red_on[claim]), len(red_on[claim])
        hashes = ", ".join("sha256 " + build["weights sha256"][:12] for build in row["builds"][:judged])
        said = f"red on {count} of {judged} independent builds ({hashes})"
        if count >= 2:
            cell["confirmed"] = said
        elif cell["status"] == "failed":
            cell["status"] = ONE_BUILD_ONLY
            cell["detail"] += f" [{said}: {'; '.join(cell.get('other builds', []))[:300]}]"


def _log_lines(workdir: Path, model_type: str) -> list[str]:
    sys.stdout.flush()
    sys.stderr.flush()
    return (workdir / "logs" / f"{model_type}.log").read_text(encoding="utf-8", errors="replace").strip().splitlines()

