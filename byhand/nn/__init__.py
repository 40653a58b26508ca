"""The book's reference implementations: one module per chapter, each shown verbatim in its
chapter (a test fails if a chapter and its module drift apart).

Functions of arrays come in pairs where they have parameters or need a cache, in the style of
CS231n's layers.py: `name_forward(inputs, params) -> (out, cache)` and
`name_backward(dout, cache) -> gradients`, the upstream gradient always first (for a loss,
`dloss`: 1 at the top of the chain), each gradient shaped like what it is taken with respect
to. Softmax and log-softmax need only their output, so the output is their cache:
`softmax_backward(dout, s)`, `log_softmax_backward(dout, logp)`. Everything here is
re-exported, so `from byhand.nn import softmax` works.
"""

from .logsumexp import *  # noqa: F401,F403  chapter 2
from .softmax import *  # noqa: F401,F403  chapter 3
from .log_softmax import *  # noqa: F401,F403  chapter 4
from .cross_entropy import *  # noqa: F401,F403  chapter 5
from .linear import *  # noqa: F401,F403  chapter 6
from .activations import *  # noqa: F401,F403  chapter 7
from .residual import *  # noqa: F401,F403  chapter 8
from .mlp import *  # noqa: F401,F403  chapter 10
