"""Training: optax loops over neural fields."""

from ._minimize import minimize as minimize
