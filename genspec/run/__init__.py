"""Which model a run is about: its settings, the checkpoint they resolve to, how it loads, the tolerances, and the claims and printed values it is judged against."""
