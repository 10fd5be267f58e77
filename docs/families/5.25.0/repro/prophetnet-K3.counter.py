"""Counter-patch of prophetnet — K3: ProphetNet's predict-stream position bias is gathered in another row order than its buckets.

ProphetNetForCausalLM's n-gram self-attention computes a relative-position bias from each position's hidden state and
gathers it by bucket (get_predict_relative_pos_embeddings): the bias is permuted to rows ordered batch, position, n-gram
stream, head, while the buckets it is gathered with are repeated in the order n-gram stream, batch, head, position. A
position's scores then read a bias computed from other positions' hidden states — later ones among them — and other rows
of the batch: the prefix moves once tokens follow, a batch row differs from its text alone, and cached generation from
the whole text.

The smallest change of transformers that removes the cause, applied in this process, then prophetnet-K3.py runs: it exits 0 where
this is the cause (the finding gone under the patch), 1 while the finding holds, 2 where the patch does not apply to this
release (saying why). The change, line by line:

    in transformers.models.prophetnet.modeling_prophetnet.ProphetNetNgramSelfAttention.get_predict_relative_pos_embeddings (transformers/models/prophetnet/modeling_prophetnet.py:806):
    - rel_pos_embeddings = rel_pos_embeddings.permute(0, 2, 1, 4, 3)
    + rel_pos_embeddings = rel_pos_embeddings.permute(0, 1, 4, 2, 3)

    in transformers.models.prophetnet.modeling_prophetnet.ProphetNetNgramSelfAttention.get_predict_relative_pos_embeddings (transformers/models/prophetnet/modeling_prophetnet.py:810):
    - predict_relative_position_buckets = predict_relative_position_buckets.unsqueeze(0)
    + predict_relative_position_buckets = predict_relative_position_buckets.unsqueeze(1)

    in transformers.models.prophetnet.modeling_prophetnet.ProphetNetNgramSelfAttention.get_predict_relative_pos_embeddings (transformers/models/prophetnet/modeling_prophetnet.py:812):
    - self.ngram, 1, self.num_attn_heads, 1
    + 1, self.ngram, self.num_attn_heads, 1
"""

import importlib
import inspect
import pathlib
import runpy
import sys
import textwrap

REPLACEMENTS = [('transformers.models.prophetnet.modeling_prophetnet.ProphetNetNgramSelfAttention', 'get_predict_relative_pos_embeddings', 'rel_pos_embeddings = rel_pos_embeddings.permute(0, 2, 1, 4, 3)', 'rel_pos_embeddings = rel_pos_embeddings.permute(0, 1, 4, 2, 3)'), ('transformers.models.prophetnet.modeling_prophetnet.ProphetNetNgramSelfAttention', 'get_predict_relative_pos_embeddings', 'predict_relative_position_buckets = predict_relative_position_buckets.unsqueeze(0)', 'predict_relative_position_buckets = predict_relative_position_buckets.unsqueeze(1)'), ('transformers.models.prophetnet.modeling_prophetnet.ProphetNetNgramSelfAttention', 'get_predict_relative_pos_embeddings', 'self.ngram, 1, self.num_attn_heads, 1', '1, self.ngram, self.num_attn_heads, 1')]  # (owner, method, old, new)


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
    runpy.run_path(str(pathlib.Path(__file__).with_name('prophetnet-K3.py')), run_name="__main__")
