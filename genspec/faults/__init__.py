"""Faults the tests of the tool inject into a run in a subprocess (`-p genspec.faults.NAME`): a fake transformers release,
an interruption, a machine short of memory. Never loaded by a run of the proof."""
