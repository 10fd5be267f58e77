"""V: the values the articles print from the real Qwen/Qwen3-0.6B (001, 003, 000).

Every test runs its code on any model and records what it observed. On the real weights it then
compares with the articles; on a stand-in the observation is checked against the stand-in's own
snapshot and the claim is skipped with the line that says how to get the real weights.
"""

import pytest
import torch

from genspec import loops
from genspec.embedded import model_card
from genspec.reports import observations
from genspec.run.loading import chat_text, encode
from genspec.run.model_source import HOW_TO_GET_REAL_WEIGHTS, REAL_MODEL
from genspec.run.printed import articles
from genspec.run.tolerances import ARTICLE_BF16

VALUES = articles()["values"]
CARD = model_card.generation_config()


@pytest.fixture
def judge_against_the_articles(source):
    """Call after recording: on a stand-in the articles' numbers cannot be judged, so the test ends skipped."""
    def judge():
        if source.is_stand_in:
            pytest.skip(source.unavailable or f"needs the real {REAL_MODEL} weights: {HOW_TO_GET_REAL_WEIGHTS}")
    return judge


def close_to_printed(observed: float, printed: float) -> bool:
    atol, rtol = ARTICLE_BF16
    return abs(observed - printed) <= atol + rtol * abs(printed)


def prompt_ids_of(tokenizer, prompt: dict, device):
    """The ids of a printed prompt: {"chat": user message} or {"raw": text}."""
    return encode(tokenizer, prompt.get("chat", prompt.get("raw")), "chat" in prompt, device)["input_ids"]


def reachability(model, prompt_ids, new_ids):
    """For each token of a printed continuation: is it kept by the default sampling edits at its step, and its rank."""
    ids = torch.cat([prompt_ids, torch.tensor([new_ids], device=prompt_ids.device)], dim=-1)
    with torch.inference_mode():
        logits = model(ids).logits[0].float()
    steps = []
    for offset, token in enumerate(new_ids):
        position = prompt_ids.shape[1] + offset
        scores = logits[position - 1][None]
        edited = loops.edit_scores(scores, ids[:, :position], temperature=CARD["temperature"], top_k=CARD["top_k"], top_p=CARD["top_p"])
        steps.append({"kept": bool(torch.isfinite(edited[0, token])), "rank": int((scores[0] > scores[0, token]).sum())})
    return steps


@pytest.mark.claim("V1")
def test_top_1_after_how_are_you_is_hello(tokenizer, forward_passes, recorded, judge_against_the_articles):
    """V1 (003 step-by-step, 001): the top-1 next token after the "how are you?" chat is 9707 "Hello", score 27.75 in bf16."""
    printed = VALUES["next_token"]
    top_score, top_index = forward_passes[printed["prompt"]].logits[:, -1, :].topk(1, dim=-1)
    recorded({"top_index": top_index.item(), "top_text": tokenizer.decode(top_index[0]), "top_score": observations.tensor(top_score)})
    judge_against_the_articles()
    assert top_index.item() == printed["top_index"]
    assert tokenizer.decode(top_index[0]) == printed["top_text"]
    assert close_to_printed(top_score.item(), printed["top_score"])


@pytest.mark.claim("V2")
def test_position_4_predicts_the(tokenizer, forward_passes, recorded, judge_against_the_articles):
    """V2 (001 Final output): after "<|im_start|>user\\nhow are" the model predicts " the"; logits[0, 3, 25] is 7.5625 in bf16."""
    printed = VALUES["position_4"]
    observed = forward_passes[printed["prompt"]]
    previous = tokenizer.decode(observed.tokens["input_ids"][0, : printed["position"] + 1])
    prediction = tokenizer.decode(observed.logits[0, printed["position"]].topk(1).indices)
    value = observed.logits[tuple(printed["logit_index"])].item()
    recorded({"previous_text": previous, "prediction": prediction, "logits[0, 3, 25]": observations.tensor(torch.tensor(value))})
    assert previous == printed["previous_text"]  # the tokenizer's part holds on any weights
    judge_against_the_articles()
    assert prediction == printed["top_text"]
    assert close_to_printed(value, printed["logit_value"])


@pytest.mark.claim("V3")
def test_per_position_table(tokenizer, forward_of, recorded, judge_against_the_articles):
    """V3 (001 Parse raw output): the per-position top-1 table for "Hi, how are you doing today?"."""
    printed = VALUES["per_position_table"]
    one_pass = forward_of(printed["text"])
    tokens, logits = one_pass.tokens, one_pass.logits
    rows = [
        [tokenizer.decode(tokens["input_ids"][0, : index + 1]), tokenizer.decode(logits[0, index].topk(1).indices)]
        for index in range(tokens["input_ids"].shape[1])
    ]
    recorded({"table": rows})
    assert [previous for previous, _ in rows] == [previous for previous, _ in printed["rows"]]
    judge_against_the_articles()
    assert rows == printed["rows"]


@pytest.mark.claim("V4")
def test_classification_loop_prints_the_reply(classifier, tokenizer, recorded, judge_against_the_articles):
    """V4 (001): the classification loop on "How are you?" prints "Hello! I'm here to help you with anything you need. How can I assist you today?"."""
    printed = VALUES["classification_loop"]
    with torch.inference_mode():
        pieces = loops.classify_text_greedily(classifier, tokenizer, chat_text(tokenizer, printed["user"]), printed["max_new_tokens"])
    text = "".join(piece for _, piece in pieces)
    recorded({"printed": text})
    judge_against_the_articles()
    assert text == printed["printed"]


@pytest.mark.claim("V5")
def test_hi_reply_is_reachable_and_greedy_is_recorded(model, tokenizer, settings, recorded, judge_against_the_articles):
    """V5 (003 Chat template): the sampled reply to "Hi!" is reachable under the default config; greedy decoding is recorded beside it."""
    printed = VALUES["hi_chat_reply"]
    prompt_ids = prompt_ids_of(tokenizer, {"chat": printed["user"]}, settings.device)
    reply_ids = tokenizer(printed["printed"])["input_ids"]
    steps = reachability(model, prompt_ids, reply_ids)
    with torch.inference_mode():
        greedy = model.generate(prompt_ids, attention_mask=torch.ones_like(prompt_ids), do_sample=False, max_new_tokens=printed["max_new_tokens"])
    greedy_text = tokenizer.decode(greedy[0, prompt_ids.shape[1]:])
    recorded({"printed reply reachability": steps, "greedy reply": greedy_text})
    judge_against_the_articles()
    assert all(step["kept"] for step in steps), steps


@pytest.mark.claim("V6")
@pytest.mark.parametrize("row", [pytest.param(row, id=row["id"]) for row in VALUES["printed_rows"]])
def test_printed_rows_match(forward_of, row, recorded, judge_against_the_articles):
    """V6 (001, 003): the printed logits and hidden-state rows match within a bf16 tolerance."""
    forward = forward_of(row["chat"], True) if "chat" in row else forward_of(row["text"])
    values = forward.last_hidden_state if row.get("hidden") else forward.logits
    observed = values[0, row["position"]]
    recorded({"row": observations.scores(observed)})
    judge_against_the_articles()
    edges = observed[:3].tolist() + observed[-3:].tolist()
    assert all(close_to_printed(o, p) for o, p in zip(edges, row["first"] + row["last"], strict=True)), (edges, row["first"] + row["last"])


@pytest.mark.claim("V7")
@pytest.mark.parametrize("sampled", [pytest.param(s, id=s["id"]) for s in VALUES["sampled_outputs"]])
def test_printed_samples_are_reachable(model, tokenizer, settings, sampled, recorded, judge_against_the_articles):
    """V7 (001, 000, 003): each printed sampled output is a high-probability path: every token within top-k 20 / top-p 0.95 at its step."""
    prompt_ids = prompt_ids_of(tokenizer, sampled["prompt"], settings.device)
    steps = reachability(model, prompt_ids, sampled["new_ids"])
    recorded({"reachability": steps})
    judge_against_the_articles()
    assert all(step["kept"] for step in steps), steps
