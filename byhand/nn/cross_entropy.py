"""Chapter 5: cross-entropy, from probabilities and from logits."""

import numpy as np

__all__ = []
