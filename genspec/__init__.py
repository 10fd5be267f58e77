"""genspec: the machinery behind the proof in `spec/`.

`loops` and `classification` are what the articles describe, written out; `run` says which model
a run is about; `embedded` builds the default stand-in; `reports` records and compares what a run
observed; `families` proves the general claims on every family; `cli` is the `genspec` command.
Imports flow one way: cli → families, reports and classification → run → embedded → stored; loops
imports only state.
"""

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
# A wheel carries the proof (spec/) and its data (fixtures/) inside the package; a checkout keeps them beside it.
SHIPPED = (PACKAGE / "spec").is_dir()
PROOF_HOME = PACKAGE if SHIPPED else PACKAGE.parent  # the proof's rootdir: its test ids read spec/test_….py in both
SPEC = PROOF_HOME / "spec"
FIXTURES = PROOF_HOME / "fixtures"
# How a user starts the proof here, for the lines that tell them what to run next.
PROOF_COMMAND = "genspec" if SHIPPED else "pytest"
