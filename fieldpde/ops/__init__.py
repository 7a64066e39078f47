"""Differential operators on pointwise fields, and a one-pass fast path for networks."""

from ._autodiff import divergence as divergence
from ._autodiff import grad as grad
from ._autodiff import hessian as hessian
from ._autodiff import jacobian as jacobian
from ._autodiff import laplacian as laplacian
from ._dims import resolve_dims as resolve_dims
from ._fast import FieldDerivatives as FieldDerivatives
from ._fast import supports_forward_laplacian as supports_forward_laplacian
from ._fast import value_grad_laplacian as value_grad_laplacian
from ._jet import Jet as Jet
from ._trig import sin as sin
from ._trig import sincos as sincos
