"""Test set-up: 2 CPU devices (set before jax is imported) and strict dtype promotion, so an
accidental float64 or int/float mix is an error here rather than a silent upcast.

The tests' arrays are tiny, so their time goes to XLA compiling, not running. Three compiler
flags make that compiling cheaper without changing what is computed: LLVM's optimization
level 0, one LLVM module per program rather than several compiled in parallel (the xdist
workers already fill the cores), and the CPU backend's classic kernel emitters rather than
its newer fusion emitters. Together they take about a third off the suite's time. A jaxlib
that no longer knows one of them would abort at start, so they are checked once, in a
subprocess, by the process that starts pytest; the workers and the docs pages' and examples'
subprocesses inherit the result through XLA_FLAGS.
"""
import os
import subprocess
import sys

FAST_COMPILE = ("--xla_backend_optimization_level=0 --xla_cpu_parallel_codegen_split_count=1 "
                "--xla_cpu_use_fusion_emitters=false")


def _compile_flags() -> str:
    """FAST_COMPILE where this jaxlib accepts every flag of it, else what all jaxlibs do."""
    flags = f"--xla_force_host_platform_device_count=2 {FAST_COMPILE}"
    check = subprocess.run([sys.executable, "-c", "import jax; jax.devices()"],
                           env={**os.environ, "XLA_FLAGS": flags, "JAX_PLATFORMS": "cpu"},
                           capture_output=True, timeout=120)
    if check.returncode == 0:
        return flags
    return "--xla_force_host_platform_device_count=2 --xla_backend_optimization_level=0"


if "XLA_FLAGS" not in os.environ:      # set once, by the process that starts pytest
    os.environ["XLA_FLAGS"] = _compile_flags()
os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_numpy_dtype_promotion", "strict")


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                      # macOS, Windows
        return os.cpu_count() or 1


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """Without `-n`, spread the tests over min(cores, 4) pytest-xdist workers, each test
    given to whichever worker is free (the docs pages and examples take seconds to minutes
    each). `-n 0`, `-p no:xdist` or `--pdb` runs everything in this one process instead."""
    if (config.pluginmanager.hasplugin("xdist") and config.option.numprocesses is None
            and "PYTEST_XDIST_WORKER" not in os.environ and not config.option.collectonly
            and not config.option.usepdb):
        config.option.numprocesses = min(_cores(), 4)
        if config.option.dist == "no":
            config.option.dist = "worksteal"


def pytest_collection_modifyitems(config, items):
    """The tests marked slow (seconds to a minute each) start first, in collection order, and
    the thousands of quick ones follow: the workers then end on quick tests, which balance
    them, rather than one worker finishing a long test alone after the other ran out."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same graphnet seed and NumPy stream, and from the same
    Keras seed where a test module imported Keras: a comparison that passes once passes on
    every run, not only on the draws of the run that wrote it."""
    import graphnet
    graphnet.utils.set_random_seed(0)
    np.random.seed(0)
    if "keras" in sys.modules:
        sys.modules["keras"].utils.set_random_seed(0)
    yield


class CompileCounter:
    """Counts XLA compilations through jax.monitoring's public compile events."""
    EVENT = "/jax/core/compile/backend_compile_duration"

    def __init__(self):
        self.count = 0
        self.names = []
        jax.monitoring.register_event_duration_secs_listener(self._listen)

    def _listen(self, event, duration, **kwargs):
        if event == self.EVENT:
            self.count += 1
            self.names.append(kwargs.get("fun_name", ""))

    def of(self, name: str) -> int:
        """Compilations of the jitted function called `name` so far."""
        return sum(1 for n in self.names if n == f"jit({name})")

    def close(self):
        jax.monitoring.unregister_event_duration_listener(self._listen)


@pytest.fixture
def compiles():
    """`compiles.count`: XLA compilations since the test began (read differences of it)."""
    counter = CompileCounter()
    yield counter
    counter.close()
