"""How `Model`'s file methods reach the code that reads and writes files.

`graphnet.saving` rebuilds models from files, so it imports the model; the model must not
import it back (that would make the two one tangle). Instead saving hands its entry
points here when it is imported, which `import graphnet` always does, and `Model.save`,
`save_weights`, `load_weights`, `get_config` and `from_config` call them by name.
"""
from __future__ import annotations

_provided: dict = {}


def provide(**functions) -> None:
    """Called once by graphnet.saving: name -> function."""
    _provided.update(functions)


def entry(name: str):
    """The function saving provided under `name`."""
    try:
        return _provided[name]
    except KeyError:
        raise RuntimeError(f"graphnet.saving has not provided {name!r}: import graphnet (not "
                           f"only graphnet.model) before saving or loading") from None
