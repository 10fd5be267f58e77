"""Run the suite in a subprocess, as a user would, on a given `--model`, and read back its proof report."""

import json
import os
import subprocess
import sys
from pathlib import Path

from genspec import PROOF_HOME


def run_suite(model_arguments: list[str], dtype: str, tmp_path: Path, cache_root: Path, paths=("spec",), report_name="report.json",
              extra=(), environment_extra=None) -> tuple[subprocess.CompletedProcess, dict]:
    report = tmp_path / report_name
    # Nothing of the user's: no GENSPEC_* settings, no HF cache but the one made here.
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("GENSPEC_", "HF_"))}
    environment |= {"HF_HOME": str(tmp_path / "hf-home"), "HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "1"} | (environment_extra or {})
    command = [sys.executable, "-m", "pytest", *paths, *extra, "-p", "no:cacheprovider", "--tb=line",
               *model_arguments, "--dtype", dtype, "--stand-in-cache", str(cache_root), "--claims-report", str(report)]
    done = subprocess.run(command, check=False, cwd=PROOF_HOME, capture_output=True, text=True, env=environment, timeout=1800)
    assert report.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    return done, json.loads(report.read_text(encoding="utf-8"))
