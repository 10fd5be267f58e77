"""After pytest-benchmark's timing table: tokens per second, share of the bandwidth bound, spread."""

import pytest

# extra_info key -> column heading
SPEED_COLUMNS = {
    "tokens_per_second": "tokens/s",
    "bandwidth_bound_share": "share of bound",
    "spread_percent": "spread %",
    "loop_speed_over_generate_median": "loop speed / generate",
    "ratio_spread_percent": "ratio spread %",
}


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, config):
    session = getattr(config, "_benchmarksession", None)  # pytest-benchmark's results of this run
    rows = [bench for bench in (session.benchmarks if session else []) if bench.extra_info]
    for bench in rows:
        if "parts_GB" in bench.extra_info:  # benchmarks/test_memory.py
            info = bench.extra_info
            terminalreporter.section("memory of the default proof")
            terminalreporter.write_line(f"peak resident {info['peak_rss_GB']} GB = {info['peak_over_weights']} × the weights ({info['weights_GB']} GB); "
                                        f"{info['proof_seconds']} s = {info['proof_over_generate_32']} × generate-32 ({info['generate_32_seconds']} s)")
            for part, gigabytes in info["parts_GB"].items():
                terminalreporter.write_line(f"  {part:<36} {gigabytes:>6} GB  {gigabytes / info['weights_GB']:.2f} × the weights")
    rows = [bench for bench in rows if "parts_GB" not in bench.extra_info]
    if not rows:
        return
    terminalreporter.section("speed side by side")
    width = max(len(bench.name) for bench in rows)
    terminalreporter.write_line(f"{'benchmark':<{width}}  " + "  ".join(SPEED_COLUMNS.values()))
    for bench in sorted(rows, key=lambda bench: (bench.group or "", bench.name)):
        cells = [f"{bench.extra_info.get(key, ''):>{len(heading)}}" for key, heading in SPEED_COLUMNS.items()]
        terminalreporter.write_line(f"{bench.name:<{width}}  " + "  ".join(cells))
