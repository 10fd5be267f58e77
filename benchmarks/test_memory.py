"""How much memory the proof takes, measured as its speed is: whole runs in subprocesses, beside the weights' size.

    pytest benchmarks/test_memory.py --benchmark-save=NAME          # add --dtype bfloat16, --model ..., --device cuda

The default proof (this run's --model, --dtype, --device) runs twice in a subprocess: once plain, its peak resident memory
read from the kernel when it exits (wait4's ru_maxrss), its wall time paired with one generate() of 32 tokens timed just
before (the benchmarks' yardstick); once with genspec.reports.memory_profile, which reads the peak of each part. Recorded in
the benchmark's extra_info and printed: the peaks in GB and in copies of the weights. Never asserted.
"""

import json

import pytest

from genspec.run import memory

# The parts of the proof the memory is asked about, by the tests that do them (the classifier is built inside the first C test).
PARTS = {
    "loading the causal LM": lambda name: name == "loading the causal LM",
    "the classifier (C1–C4)": lambda name: "test_classification.py" in name,
    "beam search (G8)": lambda name: "beam_search" in name,
    "the batch tests (S5, G10)": lambda name: "batch" in name,
    "everything else": lambda name: name.startswith("spec/"),
}


@pytest.mark.benchmark(group="memory of the default proof")
def test_memory_of_the_proof(benchmark, model, tokenizer, source, settings, tmp_path, proof_run, yardstick):
    weights = memory.weights_bytes(source.path, settings.dtype)
    generate_32 = yardstick(model, tokenizer, settings.device)
    wall, peak = benchmark.pedantic(lambda: proof_run(settings, settings.dtype), rounds=1, iterations=1)
    profile = tmp_path / "parts.json"
    proof_run(settings, settings.dtype, {"GENSPEC_MEMORY_PROFILE": str(profile)}, ["-p", "genspec.reports.memory_profile"])
    parts = json.loads(profile.read_text(encoding="utf-8")) if profile.exists() else {}
    found = {"before any model": parts.get("before loading", {}).get("peak_rss_bytes", 0)}
    for part, belongs in PARTS.items():
        peaks = [value for name, value in parts.items() if belongs(name)]
        found[part] = max((value["peak_rss_bytes"] for value in peaks), default=0)
        if peaks and "peak_device_bytes" in peaks[0]:
            found[f"{part}, on the device"] = max(value["peak_device_bytes"] for value in peaks)
    benchmark.extra_info.update({
        "weights_GB": round(weights / 1e9, 2), "peak_rss_GB": round(peak / 1e9, 2), "peak_over_weights": round(peak / weights, 2),
        "proof_seconds": round(wall, 1), "generate_32_seconds": round(generate_32, 2), "proof_over_generate_32": round(wall / generate_32, 1),
        "parts_GB": {part: round(value / 1e9, 2) for part, value in found.items()},
    })
