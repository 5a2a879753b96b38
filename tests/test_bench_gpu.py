"""bench/bench_gpu.py runs end to end at tiny sizes (its figures are for accelerators)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bench"))


@pytest.mark.slow
def test_quick_run_trains_the_same_model_three_ways():
    import bench_gpu
    results = bench_gpu.main(["--quick", "--policies", "mixed_bfloat16"])
    rows = results[0]["rows"]
    assert set(rows) >= {"b", "gn"}
    # Same weights, same data: the first epoch's losses agree across implementations.
    first = [row["loss_epoch_1"] for row in rows.values()]
    assert max(first) - min(first) < 1e-2 * max(first)
