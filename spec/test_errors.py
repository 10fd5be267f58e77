"""E: the model takes tensors of ids, not text — the errors the articles show (000, 003)."""

import pytest


@pytest.mark.claim("E1")
@pytest.mark.reads_no_scores
def test_model_refuses_a_string(model):
    """E1 (000 Tokenisation), general form: the model takes a tensor of ids; given text, it raises instead of scoring it."""
    with pytest.raises((TypeError, AttributeError), match="str"):
        model("Hi")


@pytest.mark.claim("E1")
@pytest.mark.article_config
@pytest.mark.reads_no_scores
def test_model_of_a_string_raises_type_error(model, articles):
    """E1 (000 Tokenisation): `model("Hi")` raises TypeError: embedding() indices must be a Tensor, not str."""
    printed = _printed(articles, "model-of-str")
    with pytest.raises(TypeError) as raised:
        model("Hi")
    assert printed["message"] in str(raised.value)


@pytest.mark.claim("E2")
@pytest.mark.reads_no_scores
def test_generate_of_a_string_raises_attribute_error(model, articles):
    """E2 (003 Processors): `model.generate("this is a test input")` raises AttributeError: 'str' object has no attribute 'shape'."""
    printed = _printed(articles, "generate-of-str")
    with pytest.raises(AttributeError) as raised:
        model.generate("this is a test input")
    assert printed["message"] in str(raised.value)


def _printed(articles, error_id):
    return next(error for error in articles["errors"] if error["id"] == error_id)
