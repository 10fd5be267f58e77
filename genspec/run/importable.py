"""Whether the installed transformers imports at all, asked before anything of the proof imports it.

A release and a kernels package from different times can refuse each other at import: transformers 5.10.4 builds its kernel
mapping with LayerRepository(...) without a revision, which kernels 0.19 (brought by 5.25's install) rejects as soon as
transformers.modeling_utils is imported. Without this check a run ends in pytest's internal error and a long traceback.
"""

import traceback
from importlib import metadata

import pytest
from packaging.requirements import Requirement


def stop_unless_transformers_imports() -> None:
    problem = import_problem()
    if problem:
        raise pytest.UsageError(problem)


def import_problem() -> str | None:
    """One line saying why transformers (with its model classes) does not import here, or None where it does."""
    try:
        import transformers.modeling_utils  # noqa: F401 (the module every load goes through, and the one that imports kernels)
    except Exception as error:  # noqa: BLE001 (whatever it is, the proof cannot start: one line, never a traceback)
        return _words(error)
    return None


def _words(error: Exception) -> str:
    release = metadata.version("transformers")
    frames = traceback.extract_tb(error.__traceback__)
    said = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
    asked_at = next((_inside(frame, "transformers") for frame in reversed(frames) if _inside(frame, "transformers")), None)
    if not any(_inside(frame, "kernels") for frame in frames):
        return (f"transformers {release} cannot be imported here ({said}" + (f", raised at {asked_at}" if asked_at else "")
                + "). Reinstall it (pip install --force-reinstall transformers==" + release + "), or install another release.")
    installed = metadata.version("kernels")
    declared, required = _declared_kernels()
    install = f"pip install 'kernels{declared}', the range transformers {release} declares" if declared else None
    uninstall = f"pip uninstall kernels (transformers {release} " + ("needs it only for its extra 'kernels')" if declared else "does not use it)")
    way_out = install if required else (f"{uninstall}, or {install}" if install else uninstall)
    return (f"transformers {release} cannot be imported beside kernels {installed}: kernels refused what {asked_at or 'transformers'} "
            f"asks of it ({said}); to run the proof: {way_out}.")


def _declared_kernels() -> tuple[str | None, bool]:
    """The kernels range transformers declares (an extra's included), and whether it requires kernels outright."""
    found = [Requirement(line) for line in metadata.requires("transformers") or () if Requirement(line).name == "kernels"]
    ranges = [str(requirement.specifier) for requirement in found if str(requirement.specifier)]
    return (",".join(sorted(ranges[0].split(","))) if ranges else None), any(requirement.marker is None for requirement in found)


def _inside(frame: traceback.FrameSummary, package: str) -> str | None:
    """`package/…/file.py:line` where the frame runs code of the installed `package`, else None (no machine path)."""
    parts = frame.filename.replace("\\", "/").split("/")
    if package not in parts[:-1]:
        return None
    return "/".join(parts[len(parts) - 1 - parts[::-1].index(package):]) + f":{frame.lineno}"
