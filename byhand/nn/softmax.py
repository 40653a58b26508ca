"""Chapter 3: softmax and its vector-Jacobian product."""

import numpy as np

__all__ = []
