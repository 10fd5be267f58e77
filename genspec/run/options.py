"""The run's settings, each resolved in one place: command line > environment > ini > default.

Light on purpose: the early pytest plugin (genspec.plugin) imports this module in every pytest
run of the environment, before any test module, so it imports neither torch nor transformers.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from genspec import FIXTURES, SHIPPED

MODEL = "model"
DTYPE = "dtype"
DEVICE = "device"
SEED = "stand_in_seed"
CACHE = "stand_in_cache"
SNAPSHOTS = "snapshots"
RECORDINGS = "recordings"
KERNELS = "kernels"
DEFAULT_SEED = 0
# Where an installed genspec records: in the directory it is run from, never inside the installation.
DEFAULT_RECORDINGS = "genspec-recordings"

# option name -> (environment variable, default, help)
SETTINGS = {
    MODEL: ("GENSPEC_MODEL", "embedded",
            ("embedded (default, full-size Qwen3-0.6B stand-in), embedded-small (2 layers, for quick "
             "iteration), a hub id read from the local HF cache such as Qwen/Qwen3-0.6B, or a checkpoint directory")),
    DTYPE: ("GENSPEC_DTYPE", "float32", ("float32 (default) or bfloat16, the dtypes the articles ran in; float64, the arbiter of "
                                          "whether a difference between two computations is rounding")),
    DEVICE: ("GENSPEC_DEVICE", "cpu", "cpu (default) or cuda"),
    SEED: ("GENSPEC_STAND_IN_SEED", str(DEFAULT_SEED), "seed of the embedded stand-in's weights"),
    CACHE: ("GENSPEC_CACHE", None, "where stand-ins are built (default: $XDG_CACHE_HOME/genspec)"),
    SNAPSHOTS: ("GENSPEC_SNAPSHOTS", "compare",
                ("compare (default): check observations against the recorded snapshots; report: only record them "
                 "in the claims report (for runs across library versions, compared with the regression report instead)")),
    RECORDINGS: ("GENSPEC_RECORDINGS", None,
                 (f"where recordings are written, and read first: every model's but the default's, and every --snapshot-update "
                  f"(default: ./{DEFAULT_RECORDINGS}; in a checkout, fixtures/snapshots); the default's shipped recordings are only read")),
    KERNELS: ("GENSPEC_KERNELS", "off",
              ("off (default): every load computes the model's own forward, transformers' hub kernels off; hub: the causal LM and "
               "001's classifier load as from_pretrained's default does from transformers 5.25, kernelized with kernels from the hub "
               "(needs the kernels package); compare the two runs' claims reports with `genspec regression`")),
}
DTYPES = ("float32", "bfloat16", "float64")
DEVICES = ("cpu", "cuda")
SNAPSHOT_MODES = ("compare", "report")
KERNEL_MODES = ("off", "hub")
CLAIMS_REPORT = "claims_report"
ONLY_CLAIMS = "claims"


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("genspec", "which model the claims are proven on")
    for name, (env, default, help_text) in SETTINGS.items():
        group.addoption(flag(name), dest=name, default=None, help=f"{help_text} [env {env}]")
        parser.addini(name, help=help_text, default=default)
    group.addoption(
        flag(CLAIMS_REPORT), dest=CLAIMS_REPORT, metavar="PATH", default=None,
        help="write the proof report as JSON to PATH and as Markdown beside it (PATH with .md)",
    )
    group.addoption(
        flag(ONLY_CLAIMS), dest=ONLY_CLAIMS, metavar="IDS", default=None,
        help="run only the tests that name these claims (comma-separated ids, e.g. X1,A7); the others are deselected",
    )


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


VALUE_FLAGS = tuple(flag(name) for name in (*SETTINGS, CLAIMS_REPORT, ONLY_CLAIMS))


@dataclass(frozen=True)
class Settings:
    model: str
    dtype: str
    device: str
    seed: int
    cache_root: Path
    snapshots: str
    recordings: Path  # the user's recordings folder (genspec/reports/recordings.py)
    kernels: str = "off"  # hub: load the causal LM kernelized, as transformers 5.25's default load does


# Where the resolved settings and model source live for the session (the suite and the report read them).
SETTINGS_KEY = pytest.StashKey[Settings]()
SOURCE_KEY = pytest.StashKey["ModelSource"]()


def default_recordings() -> Path:
    return FIXTURES / "snapshots" if not SHIPPED else Path.cwd() / DEFAULT_RECORDINGS


def default_cache_root() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(xdg) / "genspec"


def given_as(config: pytest.Config, name: str) -> str:
    """Where a setting's value came from, written as the user would change it: `--stand-in-cache DIR`, `GENSPEC_CACHE=DIR`, …"""
    env, default, _ = SETTINGS[name]
    if config.getoption(name):
        return f"{flag(name)} {config.getoption(name)}"
    if os.environ.get(env):
        return f"{env}={os.environ[env]}"
    if config.getini(name) and config.getini(name) != default:
        return f"{name} = {config.getini(name)} in {config.inipath.name if config.inipath else 'the ini file'}"
    return f"the default {flag(name)}"


def resolve(config: pytest.Config) -> Settings:
    def value(name: str):
        env, default, _ = SETTINGS[name]
        return config.getoption(name) or os.environ.get(env) or config.getini(name) or default

    dtype, device = value(DTYPE), value(DEVICE)
    if dtype not in DTYPES:
        raise pytest.UsageError(f"--dtype {dtype}: choose one of {', '.join(DTYPES)}.")
    if device not in DEVICES:
        raise pytest.UsageError(f"--device {device}: choose one of {', '.join(DEVICES)}.")
    try:
        seed = int(value(SEED))
    except ValueError:
        raise pytest.UsageError(f"--stand-in-seed {value(SEED)}: must be an integer.") from None
    if value(SNAPSHOTS) not in SNAPSHOT_MODES:
        raise pytest.UsageError(f"--snapshots {value(SNAPSHOTS)}: choose one of {', '.join(SNAPSHOT_MODES)}.")
    if value(KERNELS) not in KERNEL_MODES:
        raise pytest.UsageError(f"--kernels {value(KERNELS)}: choose one of {', '.join(KERNEL_MODES)}.")
    cache, recordings = value(CACHE), value(RECORDINGS)
    root = Path(cache).expanduser() if cache else default_cache_root()
    recordings_root = Path(recordings).expanduser().absolute() if recordings else default_recordings()
    return Settings(value(MODEL), dtype, device, seed, root, value(SNAPSHOTS), recordings_root, value(KERNELS))
