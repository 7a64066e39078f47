"""Checkpoints: the training state in one file, written atomically, read without pickle.

The file is a zip archive with ``meta.json`` (step, status, format version),
``state.eqx`` (the arrays of the model, optimiser state and key, by
`equinox.tree_serialise_leaves`) and ``history.npz`` (loss curves, read with
``allow_pickle=False``). Loading needs a skeleton of the same structure, which `fit` builds
from the field and optimiser it is given, so a file cannot smuggle in code.
"""

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import equinox as eqx
import numpy as np

from .._atomic import atomic_write_bytes as atomic_write_bytes

FORMAT = "fieldpde-checkpoint/1"


def save_checkpoint(
    path: str | os.PathLike,
    state: Any,
    *,
    step: int,
    history: dict[str, np.ndarray],
    meta: dict[str, Any] | None = None,
) -> None:
    """Save a training state pytree, the step reached and the loss history.

    The file is replaced atomically: an interrupted write never leaves a broken checkpoint.

    Args:
        path: the file to write (its folder is created if needed).
        state: any pytree of arrays (model, optimiser state, key, ...).
        step: the step reached.
        history: loss curves, name -> numpy array.
        meta: more JSON-serialisable information (e.g. a status), stored in ``meta.json``.

    Example:
        >>> import os, tempfile, numpy as np, jax.numpy as jnp
        >>> path = os.path.join(tempfile.mkdtemp(), "run.ckpt")
        >>> save_checkpoint(path, {"w": jnp.arange(3.0)}, step=7,
        ...     history={"loss": np.array([1.0, 0.5])}, meta={"status": "running"})
        >>> state, step, history, meta = load_checkpoint(path, {"w": jnp.zeros(3)})
        >>> state["w"].tolist(), step, history["loss"].tolist(), meta["status"]
        ([0.0, 1.0, 2.0], 7, [1.0, 0.5], 'running')
    """
    leaves = io.BytesIO()
    eqx.tree_serialise_leaves(leaves, state)
    hist = io.BytesIO()
    np.savez(hist, **{k: np.asarray(v) for k, v in history.items()})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("meta.json", json.dumps({"format": FORMAT, "step": int(step), **(meta or {})}))
        zf.writestr("state.eqx", leaves.getvalue())
        zf.writestr("history.npz", hist.getvalue())
    atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(
    path: str | os.PathLike, like: Any
) -> tuple[Any, int, dict[str, np.ndarray], dict[str, Any]]:
    """Read a checkpoint into the structure of `like`.

    Args:
        path: a file written by `save_checkpoint`.
        like: a pytree with the structure, shapes and dtypes of the saved state (its
            values are not used).

    Returns:
        ``(state, step, history, meta)``: the state in the structure of `like`, the step
        reached, the loss curves and the ``meta.json`` dict.

    Raises:
        ValueError: the file is not a fieldpde checkpoint, is truncated or corrupt, or was
            written for a model of a different structure.

    Example:
        >>> import os, tempfile, jax.numpy as jnp
        >>> path = os.path.join(tempfile.mkdtemp(), "run.ckpt")
        >>> save_checkpoint(path, (jnp.ones(2), jnp.int32(3)), step=1, history={})
        >>> load_checkpoint(path, (jnp.zeros(2), jnp.int32(0)))[0][1].item()
        3
        >>> load_checkpoint(path, (jnp.zeros(5), jnp.int32(0)))  # another model
        Traceback (most recent call last):
        ValueError: ... is not a readable fieldpde checkpoint for this model: ...
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            meta = json.loads(zf.read("meta.json"))
            if meta.get("format") != FORMAT:
                raise ValueError(f"unknown format {meta.get('format')!r}")
            state = eqx.tree_deserialise_leaves(io.BytesIO(zf.read("state.eqx")), like)
            with np.load(io.BytesIO(zf.read("history.npz")), allow_pickle=False) as npz:
                history = {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise
    except Exception as err:  # zip, json, shape and dtype errors all mean "not loadable"
        raise ValueError(
            f"`{path}` is not a readable fieldpde checkpoint for this model: {err}"
        ) from err
    return state, int(meta["step"]), history, meta


def read_checkpoint_meta(path: str | os.PathLike) -> dict[str, Any]:
    """The ``meta.json`` of a checkpoint (step, format, what was saved with it).

    Args:
        path: a file written by `save_checkpoint`.

    Returns:
        The metadata dict.

    Raises:
        ValueError: the file is not a readable fieldpde checkpoint.

    Example:
        >>> import os, tempfile, jax.numpy as jnp
        >>> path = os.path.join(tempfile.mkdtemp(), "run.ckpt")
        >>> save_checkpoint(path, jnp.ones(2), step=3, history={}, meta={"model": "basis"})
        >>> read_checkpoint_meta(path)["model"]
        'basis'
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            meta = json.loads(zf.read("meta.json"))
    except FileNotFoundError:
        raise
    except Exception as err:
        raise ValueError(f"`{path}` is not a readable fieldpde checkpoint: {err}") from err
    if meta.get("format") != FORMAT:
        raise ValueError(f"`{path}` is not a fieldpde checkpoint (format {meta.get('format')!r})")
    return meta


def save_run(path: str | os.PathLike, engine: Any, state: Any, record: Any, meta: dict) -> None:
    """Checkpoint an `Engine` run: its state, loss record and phase layout."""
    save_checkpoint(
        path,
        state,
        step=record.steps,
        history=record.arrays(),
        meta={**meta, "phases": engine.layout(), "phase": int(state.phase)},
    )


def load_run(path: str | os.PathLike, engine: Any, params: Any, record: Any) -> Any:
    """The state of an `Engine` run saved by `save_run`; `record` continues its history.

    Args:
        path: the checkpoint (the ``resume`` argument of the driver).
        engine: the engine of this run; its phase layout must be the checkpoint's.
        params: the initial trainable arrays of this run (the skeleton of the state).
        record: an empty `Record`, filled with the saved history.

    Raises:
        ValueError: the file is not a checkpoint of this model, or was written by a run
            with other phases.
    """
    path = Path(path)
    try:
        meta = read_checkpoint_meta(path)
    except ValueError as err:
        raise ValueError(f"`resume`: {err}") from err
    saved = meta.get("phases")
    if saved != engine.layout():
        raise ValueError(
            f"`resume`: {path} was written by a run with phases {saved}, but this run has "
            f"{engine.layout()}; resume with the phases (steps, lbfgs_steps, ...) it was "
            "written with"
        )
    index = int(meta["phase"])
    like = engine.enter(index, params)
    state, step, history, _ = load_checkpoint(path, like)
    record.restore(history, step)
    return engine.place(state)
