"""The generation loops the articles describe, written out by hand.

"The text generation via method model.generate() is essentially running model.forward over and
over till model generates end of sequence token" (001). Each loop below is that sentence made
executable, in the style of nanoGPT's `generate`: the caller passes a 1×N LongTensor of ids and a
model in eval mode; each returns prompt + new tokens, like `generate()`. The score edits follow
transformers' documented order: repetition penalty, then temperature, top-k, top-p.
"""

import inspect

import torch

from genspec import state


class NothingHandedBack(TypeError):
    """A loop fed by the model's state was asked for, but the model hands back nothing between steps (the message says so)."""


class Reader:
    """Reads the text step after step, as generate() does: whatever the model hands back for the next step — keys and values,
    a recurrent state, or a hybrid of both (genspec/state.py) — goes back in with only the newest token ("caching ... speeds
    up generation", 001); a model that hands back nothing reads the whole text every step, which is valid for any causal LM.

    use_cache: True demands a state handed back (NothingHandedBack, before any token, where there is none); False reads the
    whole text every step; None (default) feeds back whatever the model hands back.
    """

    def __init__(self, model, use_cache: bool | None = None, last_position_only: bool = True):
        self.model, self.use_cache = model, use_cache
        self.returned_as, self.state, self.tokens_read = None, None, 0
        self.summary = None  # what the first step handed back (state.Summary), once it has run
        self.start = 0  # where the model's own forward numbers the text's first token (numbering_start), once the first step has run
        parameters = state.forward_parameters(model)
        self.takes_cache_position = "cache_position" in parameters  # transformers 4.x: Mamba's state needs it
        # generate() numbers each new token from the state where the forward takes position_ids; some forwards handed a state
        # without them number it from 0 again (Bamba), so the loop hands them over as generate() does
        self.takes_position_ids = "position_ids" in parameters
        self.takes_use_cache = "use_cache" in parameters or _takes_any_keyword(model)
        # only the last position's scores pick the next token: skip the head elsewhere, as generate() does
        self.last_logits_only = {"logits_to_keep": 1} if last_position_only and "logits_to_keep" in parameters else {}

    def last_scores(self, ids):
        """The scores of the next token after each row of `ids` (B×V)."""
        if self.state is not None:
            output = self.model(ids[:, self.tokens_read:], **{self.returned_as: self.state}, use_cache=True, **self._positions(ids),
                                **self.last_logits_only)
            self.state = output[self.returned_as]
        else:
            first = self.summary is None and self.use_cache is not False
            output = self.model(ids, **({"use_cache": first} if self.takes_use_cache else {}), **self.last_logits_only)
            if self.summary is None:  # the first step reads the prompt and shows what the model hands back
                self.start = numbering_start(self.model, ids) if self.takes_position_ids else 0
                self.returned_as, self.state = state.handed_back(self.model, output) if self.use_cache is not False else (None, None)
                self.summary = state.summary(self.returned_as, self.state)
                if self.use_cache and self.summary.nothing:
                    raise NothingHandedBack(
                        f"{type(self.model).__name__} hands back nothing between steps (a forward pass with use_cache=True returned "
                        f"only {', '.join(output.keys())}): there is no state to feed back; run the loop with use_cache=False "
                        "(the whole text every step, valid for any causal LM)")
        self.tokens_read = ids.shape[1]
        return output.logits[:, -1, :]

    def _positions(self, ids):
        """Where the new tokens stand in the text, numbered as the model's own forward numbers the whole text, at every step: the
        first step's text is numbered by the model itself, and each later token continues from there. Where generate() numbers
        them otherwise (from 0, where RoBERTa-style positions start after the padding id), generate() departs from the model's
        forward, and the G cells stay red saying so."""
        new = torch.arange(self.tokens_read, ids.shape[1], device=ids.device)  # where they go in the state: counted from 0
        return ({"cache_position": new} if self.takes_cache_position else {}) | \
            ({"position_ids": (new + self.start).expand(ids.shape[0], -1)} if self.takes_position_ids else {})

    def follow(self, parent):
        """Beams: each surviving path keeps its parent's state."""
        if self.state is not None:
            self.state = state.reordered(self.state, parent)


def numbering_start(model, ids) -> int:
    """Where `model`'s own forward, given no position_ids, numbers the first token of `ids`: 0, or after its padding id (RoBERTa
    and its kin count positions from padding_idx + 1, their position embedding keeping that id's row). Asked of the forward
    only where a position embedding has a padding row — each numbering given, the one that scores bit for bit as the forward
    unasked kept — and once per model; elsewhere 0 without a forward pass."""
    if hasattr(model, "_genspec_numbering_start"):
        return model._genspec_numbering_start
    padded = {module.padding_idx for name, module in model.named_modules()
              if name.endswith("position_embeddings") and isinstance(module, torch.nn.Embedding) and module.padding_idx is not None}
    found = 0
    if padded:
        own = model(ids, use_cache=False).logits[:, -1]
        for start in sorted(index + 1 for index in padded):
            positions = torch.arange(start, start + ids.shape[1], device=ids.device).expand(ids.shape[0], -1)
            if torch.equal(model(ids, position_ids=positions, use_cache=False).logits[:, -1], own):
                found = start
                break
    model._genspec_numbering_start = found
    return found


def _takes_any_keyword(model) -> bool:
    return any(p.kind is p.VAR_KEYWORD for p in inspect.signature(model.forward).parameters.values())


def state_summary_of(model, input_ids) -> state.Summary:
    """What `model` hands back between steps, from one forward pass over `input_ids` with use_cache=True."""
    reader = Reader(model)
    reader.last_scores(input_ids)
    return reader.summary


def greedy(model, input_ids, max_new_tokens, eos_token_ids=(), use_cache=None):
    """001 "we used the token with highest score as the next token": argmax of the last position, append, repeat.

    use_cache: see Reader (by default whatever state the model hands back between steps)."""
    ids, reader = input_ids, Reader(model, use_cache)
    for _ in range(max_new_tokens):
        next_token = reader.last_scores(ids).argmax(dim=-1, keepdim=True)  # 003: logits[:, -1, :] scores the next token
        ids = torch.cat([ids, next_token], dim=-1)
        if eos_token_ids and next_token.item() in eos_token_ids:  # 001: "till model generates end of sequence token"
            break
    return ids


def edit_scores(scores, ids, temperature=1.0, top_k=None, top_p=None, repetition_penalty=None):
    """001 "we do some bit of editing to the model's output score": penalise repeats, sharpen, keep the top."""
    scores = scores.clone()
    if repetition_penalty is not None:
        # Scores of tokens already in the text move towards "less likely" (divide if positive, multiply if negative).
        seen = scores.gather(-1, ids)
        scores.scatter_(-1, ids, torch.where(seen < 0, seen * repetition_penalty, seen / repetition_penalty))
    scores = scores / temperature
    if top_k is not None:
        # "we can only sample from the top, say, 50 tokens" (001): drop every score below the k-th best.
        kth_best = scores.topk(min(top_k, scores.shape[-1])).values[..., -1:]
        scores = scores.masked_fill(scores < kth_best, float("-inf"))
    if top_p is not None:
        # Drop the least likely tokens whose probabilities add up to at most 1 - top_p; keep the best one always.
        ascending, order = scores.sort(dim=-1)
        drop = ascending.softmax(dim=-1).cumsum(dim=-1) <= 1 - top_p
        drop[..., -1] = False
        scores = scores.masked_fill(drop.scatter(-1, order, drop), float("-inf"))
    return scores


def seeded_generator(device, seed: int) -> torch.Generator:
    """A generator on the device the draws happen on: `generate()` draws from that device's default
    generator, which `torch.manual_seed(seed)` seeds; CUDA's generator draws other numbers than the CPU's."""
    return torch.Generator(device).manual_seed(seed)


def sample(model, input_ids, max_new_tokens, seed, eos_token_ids=(), **score_edits):
    """001 "randomly draw the next token ... where the sampling probability is determined by the model's output score".

    Draws as `torch.manual_seed(seed); model.generate(do_sample=True)` does, from a generator of the ids' device.
    """
    generator = seeded_generator(input_ids.device, seed)
    ids, reader = input_ids, Reader(model)
    for _ in range(max_new_tokens):
        scores = edit_scores(reader.last_scores(ids).float(), ids, **score_edits)
        next_token = torch.multinomial(scores.softmax(dim=-1), num_samples=1, generator=generator)
        ids = torch.cat([ids, next_token], dim=-1)
        if eos_token_ids and next_token.item() in eos_token_ids:
            break
    return ids


def beam_search(model, input_ids, num_beams, max_new_tokens, parents=None, use_cache=None):
    """001 "traverse down the entire decision tree ... whilst keeping a record of the token scores of the path".

    Keeps the `num_beams` paths with the highest summed log-probability; returns the best one.
    Written for continuations that reach `max_new_tokens` without an end-of-sequence token.
    A `parents` list, if given, receives each step's parent beam of every surviving path. use_cache: see Reader.
    """
    beams = input_ids.repeat(num_beams, 1)
    # Only the first beam is live at the start, so the first step does not pick one token num_beams times.
    path_scores = torch.full((num_beams,), float("-inf"), device=input_ids.device)
    path_scores[0] = 0.0
    reader = Reader(model, use_cache, last_position_only=False)
    for _ in range(max_new_tokens):
        log_probs = reader.last_scores(beams).float().log_softmax(dim=-1)
        candidates = (path_scores[:, None] + log_probs).view(-1)  # every (path, next token) pair
        path_scores, flat = candidates.topk(num_beams)
        parent, token = flat // log_probs.shape[-1], flat % log_probs.shape[-1]
        beams = torch.cat([beams[parent], token[:, None]], dim=-1)
        if parents is not None:
            parents.append(parent)
        reader.follow(parent)  # each surviving path keeps its parent's keys and values
    return beams[path_scores.argmax(dim=0, keepdim=True)]  # the best path, 1×L


def top_k_tree(model, input_ids, k, depth):
    """001 Decision Tree: "the top three words predicted by the model at each generation step".

    Follows the highest-scoring branch, and records at each step the k best (token, score) branches.
    """
    ids, steps = input_ids, []
    for _ in range(depth):
        scores, tokens = model(ids).logits[0, -1].topk(k)
        steps.append(list(zip(tokens.tolist(), scores.tolist(), strict=True)))
        ids = torch.cat([ids, tokens[:1][None]], dim=-1)
    return steps


def classify_greedily(classifier, input_ids, max_new_tokens, eos_token_ids=()):
    """001 "Text generation is sequence classification in a for-loop": classify the text, append the class, repeat."""
    ids = input_ids
    for _ in range(max_new_tokens):
        next_token = classifier(ids).logits.argmax(dim=-1, keepdim=True)  # one class per text: the next token
        ids = torch.cat([ids, next_token], dim=-1)
        if eos_token_ids and next_token.item() in eos_token_ids:
            break
    return ids


def classify_text_greedily(classifier, tokenizer, text, max_new_tokens):
    """001's own loop: tokenize the text, classify, decode the class to text, append it to the string, repeat."""
    pieces = []
    for _ in range(max_new_tokens):
        tokens = tokenizer(text, return_tensors="pt").to(classifier.device)
        top1_index = classifier(**tokens).logits.topk(1, -1).indices
        decoded = tokenizer.decode(top1_index[0])
        pieces.append((top1_index.item(), decoded))
        text = text + decoded
    return pieces


def retokenization_breaks(tokenizer, text, new_ids):
    """The steps at which 001's string loop stops seeing the ids that greedy generation sees.

    Step i breaks when appending the decoded token to the text and tokenizing again does not give
    the previous ids plus that token — decode→encode did not round-trip (a word re-split, a
    multi-byte character cut in two). From the first break on, the string loop's input differs.
    """
    previous, breaks = tokenizer(text)["input_ids"], []
    for step, token in enumerate(new_ids):
        text = text + tokenizer.decode([token])
        current = tokenizer(text)["input_ids"]
        if current != previous + [token]:
            breaks.append(step)
        previous = current
    return breaks
