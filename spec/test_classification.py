"""C: text generation is sequence classification in a for-loop (001 "It's really just sequence classification")."""


import pytest
import torch

from genspec import loops, stored
from genspec.agreement import agree, assert_scores_agree, same_choice
from genspec.classification import TIED_FORM, check_score_is_stored_head, head_bias_the_score_lacks, shared_with
from genspec.reports import observations, pictures
from genspec.run.applicability import CannotShow, NotApplicable
from genspec.run.loading import chat_text, prompt_text, token_texts
from genspec.run.printed import PROMPTS
from genspec.run.tolerances import kernel_atol, near_tie_bound
from genspec.steps import classifier_scores

C3_STEPS = 8
STRING_LOOP_STEPS = 8


@pytest.fixture
def classifier_with_pad(classifier, tokenizer):
    """The config has no pad token; a user who batches must set one (the model card's <|endoftext|>)."""
    classifier.config.pad_token_id = tokenizer.pad_token_id
    yield classifier
    classifier.config.pad_token_id = None


@pytest.mark.claim("C1")
@pytest.mark.classifier_against_causal_lm
def test_classifier_head_is_the_causal_lms_head(classifier_and_info, model, source, stored_head, evidence):
    """C1 (001), general form: the sequence-classification model of the same family, one class per token, scores with the causal LM's head:
    score.weight and the causal LM's head both hold what the checkpoint stores for the head (its embedding, on a tied save)."""
    classifier, _, form = classifier_and_info
    assert type(classifier).__name__.endswith("ForSequenceClassification") and classifier.base_model_prefix == model.base_model_prefix
    assert classifier.score.out_features == model.config.vocab_size
    # Against the files, not against each other: the proof's classifier shares the causal LM's tensors (one copy in memory).
    head = stored_head or stored.key_storing(source.path, model.get_input_embeddings().weight)
    assert head, "the checkpoint stores no tensor equal to the causal LM's head or embedding: nothing to build 001's score from"
    file = stored.file_storing(source.path, head)
    assert stored.same_as_stored(classifier.score.weight, file, head), f"score.weight differs from the {head} the checkpoint stores"
    causal_head = model.get_output_embeddings().weight
    if causal_head.data_ptr() != classifier.score.weight.data_ptr():  # one tensor, shared (one copy in memory): compared above
        assert stored.same_as_stored(causal_head, file, head), f"the causal LM's head differs from the stored {head}"
    evidence(f"{form}; score.weight and the causal LM's head equal the stored {head}")


@pytest.mark.claim("C1")
def test_key_mapping_makes_the_stored_lm_head_the_score(classifier_and_info, model, source, stored_head, evidence):
    """C1 (001): from_pretrained(num_labels=vocab_size, key_mapping={"lm_head.weight": "score.weight"}) gives a classifier whose score.weight is the checkpoint's lm_head.weight."""
    classifier, info, form = classifier_and_info
    # C1's own promise: "the suite fails loudly where the checkpoint has no lm_head.weight, as a tied save would".
    assert form != TIED_FORM, ("C1: this checkpoint stores no lm_head.weight (a tied save): 001's key_mapping has nothing to rename, so "
                               "its score.weight would keep its random initialisation; C2–C4 use a classifier whose score is tied to the "
                               "embedding instead")
    check_score_is_stored_head(classifier, info, source.path, stored_head)
    shared, weights = shared_with(classifier, model)
    evidence(f"{shared} of the classifier's {weights} weights are the causal LM's own tensors, equal to what the checkpoint stores")


@pytest.mark.claim("C1")
@pytest.mark.article_config
def test_classifier_is_qwen3_for_sequence_classification(classifier):
    """C1 (001): the classifier 001 builds is a Qwen3ForSequenceClassification."""
    assert type(classifier).__name__ == "Qwen3ForSequenceClassification"


@pytest.mark.claim("C2")
@pytest.mark.classifier_against_causal_lm
def test_single_text_is_classified_by_its_last_token(classifier, model, forward_passes, settings, recorded):
    """C2 (001): classification scores the last token: for one text (no pad token needed) its logits are the causal LM's logits[:, -1]."""
    observed = forward_passes["how-are-you-chat"]
    with torch.inference_mode():
        classified = classifier(**observed.tokens).logits
    recorded({"classifier logits": observations.scores(classified)})
    # One pooled row through score vs all rows through lm_head: a reshaped product (tolerances.py).
    why = head_bias_the_score_lacks(classifier, model)
    assert_scores_agree(classified, observed.logits[:, -1], kernel_atol(settings.dtype),
                        f"{why}001's classifier against the causal LM's last position", ("row", "token"))
    same_choice(classified[0], observed.logits[0, -1], near_tie_bound(settings.dtype), "classifier and causal LM: ")


@pytest.mark.claim("C2")
def test_batch_without_pad_token_is_refused(classifier, tokenizer, settings):
    """C2: without a pad token in the config, a batch of two texts cannot be pooled and transformers says so."""
    if classifier.config.pad_token_id is not None:
        raise NotApplicable(f"this checkpoint's config names a pad token ({classifier.config.pad_token_id}): "
                    "the refusal of 001's batch without one is Qwen3's (the padded batch is C2's other test)")
    batch = tokenizer(["Hi dog how are you?", "Hello dog"], return_tensors="pt", padding=True).to(settings.device)
    with pytest.raises(ValueError, match="no padding token"):
        classifier(**batch)


@pytest.mark.claim("C2")
@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.classifier_against_causal_lm
def test_padded_batch_is_classified_by_the_last_non_pad_token(classifier_with_pad, model, tokenizer, settings, side):
    """C2 (001 "the last non-padding token"): with a pad token set, each row's logits are the causal LM's at that row's last non-pad position."""
    batch = tokenizer(["Hi dog how are you?", "Hello dog"], return_tensors="pt", padding=True, padding_side=side).to(settings.device)
    last_real = (batch["attention_mask"] * torch.arange(batch["input_ids"].shape[1], device=settings.device)).argmax(-1)
    with torch.inference_mode():
        classified = classifier_with_pad(**batch).logits
        causal = model(**batch).logits[torch.arange(2, device=settings.device), last_real]
    why = head_bias_the_score_lacks(classifier_with_pad, model)
    assert_scores_agree(classified, causal, kernel_atol(settings.dtype),
                        f"{why}001's classifier against the causal LM at each row's last non-pad token ({side} padding)", ("row", "token"))
    for row in range(2):
        same_choice(classified[row], causal[row], near_tie_bound(settings.dtype), f"row {row}: ")


@pytest.mark.claim("C3")
@pytest.mark.classifier_against_causal_lm
def test_classification_loop_reproduces_greedy_generation(classifier, tokenizer, forward_passes, greedy_continuations, greedy_step_scores,
                                                          settings, recorded, evidence, picture):
    """C3 (001): the classification model in a greedy for-loop over token ids reproduces greedy generation, up to a near-tie that rounding decides."""
    ids = forward_passes["how-are-you-chat"].tokens["input_ids"]
    with torch.inference_mode():
        looped = loops.classify_greedily(classifier, ids, C3_STEPS)
    new = looped[0, ids.shape[1]:].tolist()
    recorded({"classification loop": new}, decided_by="rounding")
    agreement = agree(new, greedy_continuations["how-are-you-chat"][:C3_STEPS].tolist(), classifier_scores(classifier, ids, new),
                      greedy_step_scores["how-are-you-chat"].__getitem__, near_tie_bound(settings.dtype),
                      ("classification loop", "greedy generate()"))
    evidence(agreement.evidence)
    picture(pictures.strip("001's classification model in a for-loop beside greedy generate()", ("classification loop", "greedy generate()"),
                           token_texts(tokenizer, new), token_texts(tokenizer, greedy_continuations["how-are-you-chat"][:C3_STEPS].tolist()),
                           agreement.near_tie))
    if len(set(new)) < C3_STEPS // 2:
        raise CannotShow(f"the reply repeats: {len(set(new))} distinct tokens of {len(new)}, too few to tell the loops apart ({new})")



@pytest.mark.claim("C4")
@pytest.mark.parametrize("prompt", ["how-are-you-chat", "why-are-you-running-chat"])
@pytest.mark.classifier_against_causal_lm
def test_string_loop_equals_greedy_while_decode_encode_round_trips(classifier, tokenizer, greedy_continuations, greedy_step_scores,
                                                                   settings, prompt, recorded, evidence, picture):
    """C4 (001 loop): the loop that re-tokenizes the decoded text reproduces greedy generation up to the first step where decode→encode does not round-trip (or a near-tie)."""
    text = prompt_text(tokenizer, *PROMPTS[prompt])
    greedy = greedy_continuations[prompt].tolist()
    breaks = loops.retokenization_breaks(tokenizer, text, greedy)
    # Up to and including the first break the string loop's input is the greedy input.
    agreeing = min(breaks[0] + 1 if breaks else STRING_LOOP_STEPS, STRING_LOOP_STEPS)
    with torch.inference_mode():
        pieces = loops.classify_text_greedily(classifier, tokenizer, text, agreeing)
    string_tokens = [token for token, _ in pieces]
    recorded({"retokenization_breaks": breaks, "string loop": [text for _, text in pieces]}, decided_by="rounding")
    agreement = agree(string_tokens, greedy[:agreeing], string_loop_scores(classifier, tokenizer, text, pieces),
                      greedy_step_scores[prompt].__getitem__, near_tie_bound(settings.dtype), ("string loop", "greedy generate()"))
    evidence(agreement.evidence + (f"; decode→encode first breaks at step {breaks[0]}" if breaks else ""))
    picture(pictures.strip(f"001's string loop (decode, append, re-tokenize) beside greedy generate() on {prompt}", ("string loop", "greedy generate()"),
                           [piece for _, piece in pieces], token_texts(tokenizer, greedy[:agreeing]), agreement.near_tie))


@pytest.mark.claim("C4")
@pytest.mark.article_tokenizer
@pytest.mark.chat_template
def test_string_loop_parts_from_the_ids_at_the_emoji(tokenizer):
    """C4 (001): where decode→encode does not round-trip, the string loop's input parts from the ids: the 😊 of 001's reply is two ids
    (26525, 232), and neither decodes to a whole character, so the text after step 7 no longer tokenizes to the reply's ids."""
    reply = [9707, 0, 2585, 525, 498, 3351, 30, 26525, 232, 151645]  # 001: "Hello! How are you today? 😊<|im_end|>"
    text = chat_text(tokenizer, "how are you?")
    breaks = loops.retokenization_breaks(tokenizer, text, reply)
    assert breaks[:1] == [7], f"decode→encode breaks at steps {breaks}; 001's 😊 (ids 26525, 232) starts at step 7"
    assert tokenizer.decode(reply[7:9]) == " 😊" and "\ufffd" in tokenizer.decode(reply[7:8])


def string_loop_scores(classifier, tokenizer, text, pieces):
    """Step k's scores as the string loop computes them: the classifier over the text with the first k decoded pieces appended."""
    def at(step):
        tokens = tokenizer(text + "".join(piece for _, piece in pieces[:step]), return_tensors="pt").to(classifier.device)
        with torch.inference_mode():
            return classifier(**tokens).logits[0]
    return at
