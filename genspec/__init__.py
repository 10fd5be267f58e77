"""genspec: the machinery behind the proof in `spec/`.

`loops` and `classification` are what the articles describe, written out; `run` says which model
a run is about; `embedded` builds the default stand-in; `reports` records and compares what a run
observed. Imports flow one way: reports and classification → run → embedded; loops imports nothing.
"""

from pathlib import Path

# The checkout this package is installed from (editable): the data the proof reads lives beside it.
REPOSITORY = Path(__file__).resolve().parent.parent
FIXTURES = REPOSITORY / "fixtures"
SPEC = REPOSITORY / "spec"
