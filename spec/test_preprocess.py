"""P: text becomes a 1×N tensor of token ids, and ids decode back to text (003, 001, 000)."""

import pytest
import torch

from genspec.run.loading import chat_text
from genspec.run.printed import cases


@pytest.mark.claim("P1", "P2")
@pytest.mark.article_tokenizer
@pytest.mark.parametrize("tokenize_case", cases("tokenize"))
def test_tokenizer_gives_the_printed_ids_and_mask(tokenizer, tokenize_case, recorded):
    """P1 (000 Tokenisation), P2 (003 Tokenizer): `tokenizer(text, return_tensors="pt")` is the printed 1×N tensor."""
    tokens = tokenizer(tokenize_case["text"], return_tensors="pt")
    recorded({"input_ids": tokens["input_ids"].tolist(), "attention_mask": tokens["attention_mask"].tolist()})
    assert tokens["input_ids"].tolist() == tokenize_case["input_ids"]
    assert tokens["attention_mask"].tolist() == tokenize_case["attention_mask"]
    assert tokens["input_ids"].shape == (1, len(tokenize_case["input_ids"][0]))


@pytest.mark.claim("P3")
@pytest.mark.article_tokenizer
@pytest.mark.chat_template
@pytest.mark.parametrize("chat_case", cases("chat"))
def test_chat_template_formats_a_user_message(tokenizer, chat_case, recorded):
    """P3 (003 Chat template, 001 Preprocess): the chat template wraps the message in im_start/im_end and an empty think block."""
    formatted = chat_text(tokenizer, chat_case["user"])
    recorded({"formatted": formatted})
    assert formatted == chat_case["formatted"]


@pytest.mark.claim("P4", "P5")
@pytest.mark.article_tokenizer
@pytest.mark.chat_template
@pytest.mark.parametrize("chat_case", cases("chat", having="input_ids"))
def test_chat_tokens_are_the_printed_ids(tokenizer, chat_case, recorded):
    """P4 (003 step-by-step), P5 (000): the formatted chat tokenizes to exactly the printed ids and token strings."""
    ids = tokenizer(chat_text(tokenizer, chat_case["user"]), return_tensors="pt")["input_ids"]
    recorded({"input_ids": ids.tolist(), "tokens": tokenizer.convert_ids_to_tokens(ids[0])})
    assert ids.tolist() == [chat_case["input_ids"]]
    if "tokens" in chat_case:
        assert tokenizer.convert_ids_to_tokens(ids[0]) == chat_case["tokens"]


@pytest.mark.claim("P6")
@pytest.mark.article_tokenizer
def test_vocabulary_sizes_and_added_tokens(tokenizer, articles):
    """P6 (001, 003, 000): vocab_size counts the 151,643 BPE tokens; len(vocab) adds the 26 added tokens."""
    printed = articles["vocabulary"]
    assert tokenizer.vocab_size == printed["vocab_size"]
    assert len(tokenizer.vocab) == printed["len_vocab"]
    assert set(printed["added_special"]) <= set(tokenizer.get_added_vocab())


@pytest.mark.claim("P7")
@pytest.mark.article_tokenizer
@pytest.mark.parametrize("decode_case", cases("decode"))
def test_printed_ids_decode_to_printed_text(tokenizer, decode_case, recorded):
    """P7 (001, 003, 000): the printed id lists decode to the printed texts."""
    decoded = tokenizer.decode(decode_case["ids"])
    recorded({"decoded": decoded})
    assert decoded == decode_case["text"]


@pytest.mark.claim("P7")
@pytest.mark.parametrize("chat_case", cases("chat"))
def test_decoding_gives_back_the_formatted_text(tokenizer, chat_case):
    """P7 (000 Running the model), general form: decoding the tokenized chat gives back the formatted text (any byte-level tokenizer)."""
    ids = tokenizer(chat_case["formatted"])["input_ids"]
    assert tokenizer.decode(ids) == chat_case["formatted"]


@pytest.mark.claim("P8")
@pytest.mark.article_tokenizer
@pytest.mark.parametrize("decode_case", cases("decode", having="text_skip_special"))
def test_skip_special_tokens_and_slicing_keep_only_the_reply(tokenizer, decode_case):
    """P8 (003 Chat template): `result[0, input_len:]` keeps only generated tokens; skip_special_tokens drops <|im_end|>."""
    result = torch.tensor([decode_case["ids"]])
    generated = result[0, decode_case.get("prompt_length", 0):]
    reply = tokenizer.decode(generated, skip_special_tokens=True)
    assert reply == decode_case["text_skip_special"]
    assert "<|im_end|>" in tokenizer.decode(generated)


@pytest.mark.claim("P9")
@pytest.mark.chat_template
@pytest.mark.parametrize("chat_case", cases("chat"))
def test_apply_chat_template_tokenize_equals_tokenizing_the_text(tokenizer, chat_case):
    """P9 (001 Preprocess): apply_chat_template(tokenize=True, return_dict=True, return_tensors="pt") equals tokenizer(formatted)."""
    message = [{"role": "user", "content": chat_case["user"]}]
    direct = tokenizer.apply_chat_template(
        message, add_generation_prompt=True, enable_thinking=False, tokenize=True, return_dict=True, return_tensors="pt"
    )
    via_text = tokenizer(chat_text(tokenizer, chat_case["user"]), return_tensors="pt")
    assert torch.equal(direct["input_ids"], via_text["input_ids"])
    assert torch.equal(direct["attention_mask"], via_text["attention_mask"])
