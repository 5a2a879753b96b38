"""How long `graphnet.cost` and `summary(cost=True)` take.

A residual MLP of 500 blocks (Dense 64 relu, Dense 32, LayerNormalization, Add: 2,001
nodes) costed forward and with `training=True`, and `summary(cost=True)` of the README's
two-output model, each in a fresh process (the first call after `import graphnet`
includes JAX's first compilations).

    python bench/bench_cost.py
"""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BIG = """
import time
import graphnet as gn
from graphnet import layers
x = y = gn.Input(shape=(32,))
for i in range(500):
    h = layers.Dense(64, activation="relu")(y)
    h = layers.Dense(32)(h)
    h = layers.LayerNormalization()(h)
    y = layers.Add()([y, h])
model = gn.Model(x, y)
start = time.perf_counter(); gn.cost(model, batch_size=32)
forward = time.perf_counter() - start
start = time.perf_counter(); gn.cost(model, batch_size=32, training=True)
print(len(model.graph), forward, time.perf_counter() - start)
"""

README = """
import time
import graphnet as gn
from graphnet import layers
pixels = gn.Input(shape=(64,), name="pixels")
trunk = layers.Dense(64, activation="relu", name="trunk")(pixels)
digit = layers.Dense(10, activation="softmax", name="digit")(trunk)
big = layers.Dense(1, activation="sigmoid", name="big")(trunk)
model = gn.Model(pixels, [digit, big])
start = time.perf_counter(); model.summary(cost=True, print_fn=lambda text: None)
print(time.perf_counter() - start)
"""


def run(code):
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    return [float(v) for v in out.stdout.split()]


def main(repeats=3):
    for _ in range(repeats):
        nodes, forward, training = run(BIG)
        (summary,) = run(README)
        print(f"{int(nodes)} nodes: cost {forward:.2f} s, training=True {training:.2f} s; "
              f"README model summary(cost=True) {summary:.2f} s")


if __name__ == "__main__":
    main()
