"""V: the values the articles print from the real Qwen/Qwen3-0.6B (001, 003, 000).

Every test runs its code on any model and records what it observed. On the real weights it then
compares with the articles, in the dtype the article printed the value in (fixtures/articles.json);
on a stand-in, or in the other dtype, the observation is checked against the run's own snapshot
and the claim is skipped with the line that says which run judges it.
"""

import pytest
import torch

from genspec import PROOF_COMMAND, loops
from genspec.embedded import model_card
from genspec.reports import observations, pictures
from genspec.run.loading import chat_text, encode
from genspec.run.model_source import HOW_TO_GET_REAL_WEIGHTS, REAL_MODEL
from genspec.run.printed import articles
from genspec.run.tolerances import ARTICLE_TOLERANCE

VALUES = articles()["values"]
CARD = model_card.generation_config()
STAND_IN_STEPS = 3  # V4's and V5's loops on a stand-in, where the article's 20 steps would prove nothing more


@pytest.fixture
def judge_against_the_articles(source, settings):
    """`judge(printed_dtype)`, called after recording: the articles' numbers are judged only on the real weights, in the
    dtype the article printed them in; otherwise the test ends skipped, saying which run judges it."""
    def judge(printed_dtype: str):
        if source.is_stand_in:
            pytest.skip(source.unavailable or f"needs the real {REAL_MODEL} weights: {HOW_TO_GET_REAL_WEIGHTS}"
                                              f"; then add `--dtype {printed_dtype}`, the dtype the article printed this in")
        if settings.dtype != printed_dtype:
            pytest.skip(f"printed in {printed_dtype}: judged by `{PROOF_COMMAND} --model {source.requested} --dtype {printed_dtype}`")
    return judge


def close_to_printed(observed: float, printed: float, dtype: str) -> bool:
    return abs(observed - printed) <= ARTICLE_TOLERANCE[dtype]


def differs_by(observed: float, printed: float, dtype: str) -> str:
    return f"differs by {abs(observed - printed):.4g}, the tolerance in {dtype} is {ARTICLE_TOLERANCE[dtype]:g}"


def verdict(differences: list[str]) -> None:
    """One line per difference between the article and this model, the article's value beside the observed one."""
    if differences:
        raise AssertionError("; ".join(differences))


def prompt_ids_of(tokenizer, prompt: dict, device):
    """The ids of a printed prompt: {"chat": user message} or {"raw": text}."""
    return encode(tokenizer, prompt.get("chat", prompt.get("raw")), "chat" in prompt, device)["input_ids"]


def reachability(model, prompt_ids, new_ids):
    """For each token of a printed continuation: kept by the default sampling edits at its step?, its rank, and how many tokens the edits keep."""
    ids = torch.cat([prompt_ids, torch.tensor([new_ids], device=prompt_ids.device)], dim=-1)
    with torch.inference_mode():
        logits = model(ids).logits[0].float()
    steps = []
    for offset, token in enumerate(new_ids):
        position = prompt_ids.shape[1] + offset
        scores = logits[position - 1][None]
        edited = loops.edit_scores(scores, ids[:, :position], temperature=CARD["temperature"], top_k=CARD["top_k"], top_p=CARD["top_p"])
        steps.append({"kept": bool(torch.isfinite(edited[0, token])), "rank": int((scores[0] > scores[0, token]).sum()),
                      "candidates": int(torch.isfinite(edited[0]).sum())})
    return steps


def snapshot_of(steps):
    """What a snapshot keeps of reachability: kept or not, and ranks inside the top-k. A rank deep in the tail moves
    with any kernel among 151,936 near-equal scores and carries no claim."""
    return [{"kept": step["kept"], "rank": step["rank"] if step["rank"] < CARD["top_k"] else f">= {CARD['top_k']}"} for step in steps]


def dropped(tokenizer, new_ids, steps) -> list[str]:
    """The first printed token the default sampling would drop, with its rank and the top-k/top-p boundary."""
    for index, (token, step) in enumerate(zip(new_ids, steps, strict=True)):
        if not step["kept"]:
            return [(f"step {index}: the printed token {token} {tokenizer.decode([token])!r} has rank {step['rank']}, "
                    f"outside what the default sampling keeps (top-k {CARD['top_k']}, top-p {CARD['top_p']}: "
                    f"{step['candidates']} candidates), so it could not have been drawn")]
    return []


@pytest.mark.claim("V1")
def test_top_1_after_how_are_you_is_hello(tokenizer, forward_passes, recorded, judge_against_the_articles):
    """V1 (003 step-by-step, 001): the top-1 next token after the "how are you?" chat is 9707 "Hello", score 27.75 in bf16."""
    printed = VALUES["next_token"]
    top_score, top_index = forward_passes[printed["prompt"]].logits[:, -1, :].topk(1, dim=-1)
    recorded({"top_index": top_index.item(), "top_text": tokenizer.decode(top_index[0]), "top_score": observations.tensor(top_score)}, decided_by="rounding")
    judge_against_the_articles(printed["dtype"])
    index, text, score = top_index.item(), tokenizer.decode(top_index[0]), top_score.item()
    if (index, text) != (printed["top_index"], printed["top_text"]) or not close_to_printed(score, printed["top_score"]):
        verdict([(f"top-1 after the how-are-you chat: {index} {text!r} ({score:.4g}); the article printed "
                 f"{printed['top_index']} {printed['top_text']!r} ({printed['top_score']}); the score {differs_by(score, printed['top_score'], printed['dtype'])}")])


@pytest.mark.claim("V2")
def test_position_4_predicts_the(tokenizer, forward_passes, recorded, judge_against_the_articles):
    """V2 (001 Final output): after "<|im_start|>user\\nhow are" the model predicts " the"; logits[0, 3, 25] is 7.5625 in bf16."""
    printed = VALUES["position_4"]
    observed = forward_passes[printed["prompt"]]
    previous = tokenizer.decode(observed.tokens["input_ids"][0, : printed["position"] + 1])
    prediction = tokenizer.decode(observed.logits[0, printed["position"]].topk(1).indices)
    value = observed.logits[tuple(printed["logit_index"])].item()
    recorded({"previous_text": previous, "prediction": prediction, "logits[0, 3, 25]": observations.tensor(torch.tensor(value))}, decided_by="rounding")
    assert previous == printed["previous_text"]  # the tokenizer's part holds on any weights
    judge_against_the_articles(printed["dtype"])
    if prediction != printed["top_text"] or not close_to_printed(value, printed["logit_value"], printed["dtype"]):
        verdict([(f"after {previous!r}: predicted {prediction!r}, logits[0, 3, 25] = {value:.4g}; the article printed "
                 f"{printed['top_text']!r}, {printed['logit_value']}; the logit {differs_by(value, printed['logit_value'], printed['dtype'])}")])


@pytest.mark.claim("V3")
def test_per_position_table(tokenizer, forward_of, recorded, judge_against_the_articles, picture):
    """V3 (001 Parse raw output): the per-position top-1 table for "Hi, how are you doing today?"."""
    printed = VALUES["per_position_table"]
    one_pass = forward_of(printed["text"])
    tokens, logits = one_pass.tokens, one_pass.logits
    rows = [
        [tokenizer.decode(tokens["input_ids"][0, : index + 1]), tokenizer.decode(logits[0, index].topk(1).indices)]
        for index in range(tokens["input_ids"].shape[1])
    ]
    recorded({"table": rows}, decided_by="rounding")
    printed_prediction = dict(map(tuple, printed["rows"]))
    picture(pictures.table("001's per-position table, observed beside printed", ["previous text", "token with highest score", "001 printed"],
                           [[previous, predicted, printed_prediction.get(previous, "—")] for previous, predicted in rows]))
    assert [previous for previous, _ in rows] == [previous for previous, _ in printed["rows"]]
    judge_against_the_articles(printed["dtype"])
    verdict([f"after {previous!r}: predicted {predicted!r}; the article printed {expected!r}"
             for (previous, predicted), (_, expected) in zip(rows, printed["rows"], strict=True) if predicted != expected])


@pytest.mark.claim("V4")
def test_classification_loop_prints_the_reply(classifier, tokenizer, source, recorded, judge_against_the_articles):
    """V4 (001): the classification loop on "How are you?" prints "Hello! I'm here to help you with anything you need. How can I assist you today?"."""
    printed = VALUES["classification_loop"]
    # On a stand-in nothing is judged: a few steps exercise the code (C4 proves the same loop against generate()).
    steps = STAND_IN_STEPS if source.is_stand_in else printed["max_new_tokens"]
    with torch.inference_mode():
        pieces = loops.classify_text_greedily(classifier, tokenizer, chat_text(tokenizer, printed["user"]), steps)
    text = "".join(piece for _, piece in pieces)
    recorded({"printed": text}, decided_by="rounding")
    judge_against_the_articles(printed["dtype"])
    if text != printed["printed"]:
        part = next((i for i, (a, b) in enumerate(zip(text, printed["printed"], strict=False)) if a != b), min(len(text), len(printed["printed"])))
        verdict([(f"the classification loop printed {text!r}; the article printed {printed['printed']!r}; "
                 f"they part at character {part}: {text[part:part + 12]!r} against {printed['printed'][part:part + 12]!r}")])


@pytest.mark.claim("V5")
def test_hi_reply_is_reachable_and_greedy_is_recorded(model, tokenizer, settings, source, recorded, judge_against_the_articles):
    """V5 (003 Chat template): the sampled reply to "Hi!" is reachable under the default config; greedy decoding is recorded beside it."""
    printed = VALUES["hi_chat_reply"]
    prompt_ids = prompt_ids_of(tokenizer, {"chat": printed["user"]}, settings.device)
    reply_ids = tokenizer(printed["printed"])["input_ids"]
    steps = reachability(model, prompt_ids, reply_ids)
    # The greedy reply is recorded for the regression report; on a stand-in a few steps exercise the code (G1 proves greedy generation).
    greedy_steps = STAND_IN_STEPS if source.is_stand_in else printed["max_new_tokens"]
    with torch.inference_mode():
        greedy = model.generate(prompt_ids, attention_mask=torch.ones_like(prompt_ids), do_sample=False, max_new_tokens=greedy_steps)
    greedy_text = tokenizer.decode(greedy[0, prompt_ids.shape[1]:])
    recorded({"printed reply reachability": snapshot_of(steps), "greedy reply": greedy_text}, decided_by="rounding")
    judge_against_the_articles(printed["dtype"])
    verdict(dropped(tokenizer, reply_ids, steps))


@pytest.mark.claim("V6")
@pytest.mark.parametrize("row", [pytest.param(row, id=row["id"]) for row in VALUES["printed_rows"]])
def test_printed_rows_match(forward_of, row, recorded, judge_against_the_articles):
    """V6 (001, 003, 000): the printed logits and hidden-state rows match, each within the tolerance of the dtype it was printed in."""
    forward = forward_of(row["chat"], True) if "chat" in row else forward_of(row["text"])
    values = forward.last_hidden_state if row.get("hidden") else forward.logits
    observed = values[0, row["position"]]
    recorded({"row": observations.scores(observed)})
    judge_against_the_articles(row["dtype"])
    edges, printed_edges = observed[:3].tolist() + observed[-3:].tolist(), row["first"] + row["last"]
    if not all(close_to_printed(o, p, row["dtype"]) for o, p in zip(edges, printed_edges, strict=True)):
        largest = max(range(6), key=lambda i: abs(edges[i] - printed_edges[i]))
        shown = ", ".join(f"{value:.4g}" for value in edges[:3]) + ", ..., " + ", ".join(f"{value:.4g}" for value in edges[3:])
        verdict([(f"row {row['id']}: observed [{shown}]; the article printed {row['first']} ... {row['last']}; "
                 f"largest difference {abs(edges[largest] - printed_edges[largest]):.4g} at edge {largest}, the tolerance in {row['dtype']} is {ARTICLE_TOLERANCE[row['dtype']]:g}")])


@pytest.mark.claim("V7")
@pytest.mark.parametrize("sampled", [pytest.param(s, id=s["id"]) for s in VALUES["sampled_outputs"]])
def test_printed_samples_are_reachable(model, tokenizer, settings, sampled, recorded, judge_against_the_articles):
    """V7 (001, 000, 003): each printed sampled output is a high-probability path: every token within top-k 20 / top-p 0.95 at its step."""
    prompt_ids = prompt_ids_of(tokenizer, sampled["prompt"], settings.device)
    steps = reachability(model, prompt_ids, sampled["new_ids"])
    recorded({"reachability": snapshot_of(steps)}, decided_by="rounding")
    judge_against_the_articles(sampled["dtype"])
    verdict(dropped(tokenizer, sampled["new_ids"], steps))
