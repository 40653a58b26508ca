"""Chapter 8: the residual block, forward and backward."""

import numpy as np

__all__ = []
