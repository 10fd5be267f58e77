"""The proof's fixtures (forward passes, generations, 001's classifier) come from genspec.session, a plugin of
genspec.suite: the root conftest.py loads it in a checkout, the `genspec` command with `-p genspec.suite` elsewhere."""
