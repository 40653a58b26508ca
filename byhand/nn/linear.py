"""Chapter 6: the linear (fully connected) layer, forward and backward."""

import numpy as np

__all__ = []
