"""What `genspec families`' fork server imports and loads once, before it forks a process per family (family_runs.PRELOAD):
torch, transformers, the proof's plugins, and the stand-in's tokenizer that every tiny checkpoint shares, from the
directory the run built it in (named by TOKENIZER_VARIABLE, the one way to hand the fork server a value)."""

import os
from pathlib import Path

import hypothesis  # noqa: F401 (imported here, once, for every family)
import pytest  # noqa: F401
import torch  # noqa: F401
import transformers  # noqa: F401

import genspec.cli
import genspec.families.builds
import genspec.suite  # noqa: F401
from genspec.embedded.tokenizer import preload

TOKENIZER_VARIABLE = "GENSPEC_FAMILIES_TOKENIZER"

if os.environ.get(TOKENIZER_VARIABLE):
    preload(Path(os.environ[TOKENIZER_VARIABLE]))
