"""The verdicts that are neither proven nor refuted, as exceptions a test raises: the model lacks the part of the articles a
claim is about (NotApplicable), or has it but cannot decide the claim here (CannotShow). genspec/run/applicability.py turns
them into verdicts; they import nothing heavy, so that a crash's words (genspec/reports/crashes.py) need no torch."""

NOT_APPLICABLE = "not applicable: "
CANNOT_SHOW = "cannot show: "


class Unjudged(Exception):
    """A claim this test cannot judge on this model, and why (the message)."""

    prefix = ""


class NotApplicable(Unjudged):
    """The model lacks the part of the articles the claim is about (a key/value cache, a beam search, a pad token)."""

    prefix = NOT_APPLICABLE


class CannotShow(Unjudged):
    """The model has the part, but what it does here cannot decide the claim (a continuation too repetitive to tell two loops
    apart): a verdict about the evidence, distinct from a refutation."""

    prefix = CANNOT_SHOW
