"""`genspec families`: the articles' general claims on a tiny checkpoint of every family transformers maps to a causal LM.

`command` is the command and its pages; `builds` the tiny checkpoints; `runs` each family proven in a process of its own
(`preload`: what the fork server imports once), its red cells judged in float64 and on independent builds; `kept_rows` a
run's rows kept so that it resumes; `scripts` the script that reproduces a red cell with torch and transformers alone.
"""
