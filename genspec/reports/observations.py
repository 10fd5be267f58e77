"""What a claim test observed, as plain JSON data, and how two observations compare.

Token ids and texts are compared exactly. Tensors are stored readably — dtype, shape and values —
and compared within a tolerance; rows of scores over the vocabulary are stored the way the
articles print them (the first and last values) plus the top-5 tokens, so a diff can show top-1
flips. Numbers are parsed back with `json`, never `eval`.
"""

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the reports compare observations where torch is not installed
    import torch

EDGE = 4  # values kept at each end of a score row, as the articles print `[a, b, c, ..., x, y, z]`
TOP = 5


def scores(rows: "torch.Tensor") -> dict:
    """Rows of scores over the vocabulary (…×V): dtype, shape, edge values, top-5 tokens and scores."""
    rows = rows.detach()
    top = rows.float().topk(TOP, dim=-1)
    return {
        "kind": "scores",
        "dtype": str(rows.dtype).removeprefix("torch."),
        "shape": list(rows.shape),
        "head": _values(rows[..., :EDGE]),
        "tail": _values(rows[..., -EDGE:]),
        "top_tokens": top.indices.tolist(),
        "top_scores": _values(top.values),
    }


def tensor(values: "torch.Tensor") -> dict:
    """A small tensor, stored whole."""
    values = values.detach()
    return {"kind": "tensor", "dtype": str(values.dtype).removeprefix("torch."), "shape": list(values.shape), "values": _values(values)}


def _values(values: "torch.Tensor"):
    # 7 significant digits: float32 round-trips to within 1e-7 relative, far inside any tolerance.
    return _round(values.float().cpu().tolist())


def _round(nested):
    if isinstance(nested, list):
        return [_round(item) for item in nested]
    return float(f"{nested:.7g}")


@dataclass
class Drift:
    """How an observation differs from the recorded one."""

    path: str
    message: str
    numeric: dict = field(default_factory=dict)  # count, largest abs/rel errors, first indices, top-1 flips


def compare(recorded, observed, atol: float, rtol: float, path: str = "", strict_dtype: bool = True) -> list[Drift]:
    """Every difference between two observations that lies outside the tolerance.

    With strict_dtype=False (comparing two runs in different dtypes) a dtype change is reported
    and the values are still compared.
    """
    if isinstance(recorded, dict) and recorded.get("kind") in ("scores", "tensor"):
        return _compare_numeric(recorded, observed, atol, rtol, path or "value", strict_dtype)
    if isinstance(recorded, dict) and isinstance(observed, dict):
        drifts = []
        for key in sorted(set(recorded) | set(observed)):
            where = f"{path}.{key}" if path else key
            if key not in observed or key not in recorded:
                drifts.append(Drift(where, "only recorded" if key in recorded else "only observed"))
            else:
                drifts.extend(compare(recorded[key], observed[key], atol, rtol, where, strict_dtype))
        return drifts
    if recorded != observed:
        return [Drift(path or "value", _exact_difference(recorded, observed))]
    return []


def _exact_difference(recorded, observed) -> str:
    if isinstance(recorded, str) and isinstance(observed, str):  # a repr, a text: read whole, both sides
        first = next((i for i, (a, b) in enumerate(zip(recorded, observed, strict=False)) if a != b), min(len(recorded), len(observed)))
        return f"recorded {recorded!r}, observed {observed!r} (they differ from character {first})"
    if isinstance(recorded, list) and isinstance(observed, list):
        first = next((i for i, (a, b) in enumerate(zip(recorded, observed, strict=False)) if a != b), min(len(recorded), len(observed)))
        return f"differs from index {first}: recorded {recorded[first:first + 8]!r}, observed {observed[first:first + 8]!r}"
    return f"recorded {recorded!r}, observed {observed!r}"


def _flatten(nested, prefix=()):
    if isinstance(nested, list):
        for index, item in enumerate(nested):
            yield from _flatten(item, prefix + (index,))
    else:
        yield prefix, nested


def _compare_numeric(recorded: dict, observed: dict, atol: float, rtol: float, path: str, strict_dtype: bool = True) -> list[Drift]:
    # As pytest-regressions does: dtype, then shape, then values.
    dtype_note = ""
    for key in ("kind", "dtype", "shape"):
        if recorded.get(key) != observed.get(key):
            change = f"{key} changed: recorded {recorded.get(key)}, observed {observed.get(key)}"
            if key == "dtype" and not strict_dtype:
                dtype_note = change + "; "
                continue
            return [Drift(path, change)]
    numeric_keys = [key for key in ("values", "head", "tail", "top_scores") if key in recorded]
    differing, largest_abs, largest_rel, first = 0, (0.0, None), (0.0, None), []
    total = 0
    for key in numeric_keys:
        for (index, a), (_, b) in zip(_flatten(recorded[key]), _flatten(observed[key]), strict=False):
            total += 1
            error = abs(a - b) if math.isfinite(a) and math.isfinite(b) else (0.0 if a == b else math.inf)
            relative = error / abs(a) if a else (0.0 if error == 0 else math.inf)
            if error > largest_abs[0]:
                largest_abs = (error, f"{key}{list(index)}: recorded {a}, observed {b}")
            if relative > largest_rel[0]:
                largest_rel = (relative, f"{key}{list(index)}")
            if error > atol + rtol * abs(a):
                differing += 1
                if len(first) < 5:
                    first.append(f"{key}{list(index)}")
    flips = []
    if "top_tokens" in recorded:
        rows = zip(_rows(recorded["top_tokens"]), _rows(recorded["top_scores"]), _rows(observed["top_tokens"]), strict=False)
        for index, (was, was_scores, now) in enumerate(rows):
            # A new top-1 that was recorded within the tolerance of the old one is a tie rounding decided, not a change.
            tied = now[0] in was and was_scores[0] - was_scores[was.index(now[0])] <= atol + rtol * abs(was_scores[0])
            if was[0] != now[0] and not tied:
                flips.append({"row": index, "recorded": was[0], "observed": now[0]})
    if not differing and not flips:
        return [Drift(path, dtype_note.removesuffix("; "))] if dtype_note else []
    summary = {
        "differing": differing, "total": total, "atol": atol, "rtol": rtol,
        "largest_abs": largest_abs[0], "largest_abs_at": largest_abs[1],
        "largest_rel": largest_rel[0], "largest_rel_at": largest_rel[1],
        "first_differing": first, "top1_flips": flips,
    }
    message = dtype_note + (
        f"{differing} of {total} values differ beyond atol={atol:g} + rtol={rtol:g}·|recorded|; "
        f"largest absolute error {largest_abs[0]:.4g} at {largest_abs[1]}; largest relative error "
        f"{largest_rel[0]:.4g} at {largest_rel[1]}; first differing {first}"
    )
    if flips:
        message += "; top-1 flips " + ", ".join(f"row {f['row']}: {f['recorded']} → {f['observed']}" for f in flips)
    return [Drift(path, message, summary)]


def _rows(top_tokens):
    """Top-token lists, one per row, for any number of leading dimensions."""
    if top_tokens and isinstance(top_tokens[0], list):
        return [row for nested in top_tokens for row in _rows(nested)] if isinstance(top_tokens[0][0], list) else top_tokens
    return [top_tokens]
