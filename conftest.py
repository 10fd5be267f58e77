# The proof's wiring, for spec/ and benchmarks/ alike. The options come earlier, from the
# installed plugin genspec.plugin (see there why).
pytest_plugins = ["genspec.suite"]
