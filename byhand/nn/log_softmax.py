"""Chapter 4: log-softmax and its vector-Jacobian product."""

import numpy as np

__all__ = []
