"""The wheel carries the proof: spec/ (the claim tests) and fixtures/ (the catalogue, the printed values, the model card, the
default's recordings) ride inside the package as genspec/spec and genspec/fixtures, where genspec/__init__.py finds them.

Only the wheel: an editable install maps the package alone (dev-mode-exact) and reads the proof where it lies in the checkout.
Copied into site-packages beside that mapping, they would make an empty `genspec` folder there that shadows the package."""

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

CARRIED = {"spec": "genspec/spec", "fixtures": "genspec/fixtures"}


class ProofInsideTheWheel(BuildHookInterface):
    def initialize(self, version, build_data):
        if version == "standard":
            build_data["force_include"].update(CARRIED)
