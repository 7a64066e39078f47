"""Running a sequence of layers, plainly or on jets; shared by `SIREN` and `MLP`."""

from collections.abc import Sequence
from typing import Any

from .._checks import last_axis
from ..ops import Jet


def run_layers(layers: Sequence[Any], x, owner: str):
    """Apply `layers` in turn to points `x` of shape ``(..., d)``."""
    h = last_axis("x", x, layers[0].in_features, owner)
    for layer in layers:
        h = layer(h)
    return h


def jet_layers(layers: Sequence[Any], jet: Jet, owner: str) -> Jet:
    """Push a `Jet` through `layers` in turn."""
    last_axis("x", jet.value, layers[0].in_features, owner)
    for layer in layers:
        jet = layer.forward_laplacian(jet)
    return jet
