"""Counter-patch of marian — G10: the decoder numbers positions by column, not by the attention mask.

MarianForCausalLM's forward takes no `position_ids`, and its decoder numbers positions `arange(seq_length) +
cache_length` whatever the attention mask says: a left-padded row's tokens sit at other positions than the same text
alone, so the batch generates otherwise. The mask itself works (the padding is not attended).

The smallest change of transformers that removes the cause, applied in this process, then marian-G10.py runs: it exits 0 where
this is the cause (the finding gone under the patch), 1 while the finding holds, 2 where the patch does not apply to this
release (saying why). The change, line by line:

    in transformers.models.marian.modeling_marian.MarianDecoder.forward (transformers/models/marian/modeling_marian.py:571):
    - position_ids = torch.arange(seq_length, device=inputs_embeds.device) + cache_length
    + position_ids = torch.arange(seq_length, device=inputs_embeds.device) + cache_length if attention_mask is None or attention_mask.dim() != 2 else (attention_mask.long().cumsum(-1) - 1).clamp(min=0)[:, -seq_length:]
"""

import importlib
import inspect
import pathlib
import runpy
import sys
import textwrap

REPLACEMENTS = [('transformers.models.marian.modeling_marian.MarianDecoder', 'forward', 'position_ids = torch.arange(seq_length, device=inputs_embeds.device) + cache_length', 'position_ids = torch.arange(seq_length, device=inputs_embeds.device) + cache_length if attention_mask is None or attention_mask.dim() != 2 else (attention_mask.long().cumsum(-1) - 1).clamp(min=0)[:, -seq_length:]')]  # (owner, method, old, new)


def owner_of(dotted):
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            owner = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            owner = getattr(owner, name)
        return owner
    raise ImportError(dotted)


def replace_in(owner, method, changes):
    """Each (old, new) of `changes` replaced in the source of owner.method, recompiled in its own module: the function's code
    swapped, its decorators and closure kept."""
    function = inspect.unwrap(getattr(owner, method))
    lines = textwrap.dedent(inspect.getsource(function)).splitlines(keepends=True)
    source = "".join(lines[next(i for i, line in enumerate(lines) if line.lstrip().startswith(("def ", "async def "))):])
    for old, new in changes:
        if source.count(old) != 1:
            raise LookupError(f"{owner.__name__}.{method} holds the line {source.count(old)} times, not once: {old!r}")
        source = source.replace(old, new)
    free = function.__code__.co_freevars  # super()'s __class__ among them: the new code closes over the same names
    factory = f"def _factory({', '.join(free)}):\n{textwrap.indent(source, '    ')}\n    return {function.__name__}\n"
    namespace = {}
    exec(compile(factory, inspect.getsourcefile(function), "exec"), vars(sys.modules[function.__module__]), namespace)
    function.__code__ = namespace["_factory"](*(cell.cell_contents for cell in function.__closure__ or ())).__code__


if __name__ == "__main__":
    try:  # a method's changes together: its source is read once, from transformers' file
        for dotted, method in dict.fromkeys((dotted, method) for dotted, method, _, _ in REPLACEMENTS):
            replace_in(owner_of(dotted), method, [(old, new) for each, name, old, new in REPLACEMENTS if (each, name) == (dotted, method)])
    except Exception as error:
        print(f"the counter-patch does not apply: {type(error).__name__}: {error}")
        sys.exit(2)
    print(f"counter-patch applied: {len(REPLACEMENTS)} line(s) of transformers changed")
    runpy.run_path(str(pathlib.Path(__file__).with_name('marian-G10.py')), run_name="__main__")
