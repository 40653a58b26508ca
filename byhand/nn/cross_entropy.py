"""Chapter 5: cross-entropy, from probabilities and from logits."""

import numpy as np

from .logsumexp import logsumexp

__all__ = ["cross_entropy", "cross_entropy_forward", "cross_entropy_backward",
           "softmax_cross_entropy_forward", "softmax_cross_entropy_backward",
           "nll_loss"]


def cross_entropy(p, t):
    """Mean over the batch of -sum_k t_k log p_k: rows (last axis) are examples.

    p  probabilities, shape (N, K) (a single row of shape (K,) counts as N = 1)
    t  targets of the same shape: one-hot rows or distributions (rows sum to 1)
    Returns a scalar. A term with t_k = 0 counts 0, even where p_k = 0
    (0 log 0 = 0); a p_k = 0 with t_k > 0 gives +inf: log of an underflow.
    """
    p, t = np.asarray(p), np.asarray(t)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(t == 0, 0, t * np.log(p))      # (N, K)
    return -np.sum(terms) / (p.size // p.shape[-1])


def cross_entropy_forward(p, t):
    """cross_entropy(p, t) and the cache its backward pass needs.

    p, t  probabilities and targets of the same shape, as in cross_entropy
    Returns (loss, cache): the scalar loss and cache = (p, t).
    """
    p, t = np.asarray(p), np.asarray(t)
    if p.shape != t.shape:
        raise ValueError(f"cross_entropy_forward: p has shape {p.shape} but t "
                         f"has shape {t.shape}; they must be equal")
    return cross_entropy(p, t), (p, t)


def cross_entropy_backward(dloss, cache):
    """dL/dp = dloss * (-t / p / N), shaped like p: the VJP of the mean loss.

    dloss  upstream gradient, a scalar: 1 when the loss is the final output
    cache  (p, t), from cross_entropy_forward
    Entries with t_k = 0 are 0; with p_k -> 0 and t_k > 0 the gradient
    blows up like -1/p_k. The dtype is that of -t / p.
    """
    if np.ndim(dloss) != 0:
        raise ValueError(f"cross_entropy_backward: dloss has shape "
                         f"{np.shape(dloss)}; it must be a scalar, the upstream "
                         "gradient of the loss (the call is (dloss, cache))")
    if not (isinstance(cache, tuple) and len(cache) == 2
            and np.shape(cache[0]) == np.shape(cache[1])):
        raise ValueError("cross_entropy_backward: cache must be the pair (p, t) "
                         "of equal shapes that cross_entropy_forward returns")
    p, t = np.asarray(cache[0]), np.asarray(cache[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        dp = np.where(t == 0, 0, -t / p) / (p.size // p.shape[-1])   # (N, K)
    return (dloss * dp).astype(dp.dtype, copy=False)


def softmax_cross_entropy_forward(logits, targets):
    """Mean cross-entropy of softmax(logits) against targets, from the logits.

    logits   shape (N, K); float16/32/64 keep their dtype, integers -> float64
    targets  either integer class labels, shape (N,), values 0 .. K-1 (turned
             into one-hot rows), or target distributions, shape (N, K), each
             row >= 0 and summing to 1 (one-hot, or soft as in label smoothing)
    Returns (loss, cache): the loss, a scalar of the logits' dtype, and
    cache = (p, t), p = softmax(logits) and t the (N, K) targets.

    log p = (x - m) - log(sum(exp(x - m))), m = the row's max: no overflow,
    and finite even where p underflows to 0, for every finite logit.
    """
    x = np.asarray(logits)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    if x.ndim != 2:
        raise ValueError(f"logits must have shape (N, K), not {x.shape}")
    N, K = x.shape
    targets = np.asarray(targets)
    if targets.shape == (N,):                           # labels -> one-hot
        if not np.issubdtype(targets.dtype, np.integer):
            raise TypeError(f"labels must be integers, not {targets.dtype}")
        if np.any((targets < 0) | (targets >= K)):
            raise ValueError(f"labels must lie in 0 .. {K - 1}")
        t = np.zeros((N, K), dtype=x.dtype)
        t[np.arange(N), targets] = 1
    elif targets.shape == (N, K):                       # distributions
        t = targets.astype(x.dtype)
        tol = np.sqrt(np.finfo(x.dtype).eps)
        if np.any(t < 0) or not np.allclose(t.sum(axis=1), 1, rtol=0, atol=tol):
            raise ValueError("target rows must be >= 0 and sum to 1, or the "
                             "gradient is not p - t")
    else:
        raise ValueError(f"targets must have shape ({N},) or ({N}, {K}), "
                         f"not {targets.shape}")
    work = np.promote_types(x.dtype, np.float32)       # float16 -> float32 inside
    # ignore: a spread beyond the float range (z = -inf, p = 0), 0 * -inf, p -> 0
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        z = x.astype(work) - np.max(x, axis=1, keepdims=True)  # (N, K), each <= 0
        logp = z - logsumexp(z, axis=1, keepdims=True)  # (N, K) log-probabilities
        terms = np.where(t == 0, 0, t * logp)           # (N, K)
        loss = -np.sum(terms / N)    # terms <= 0: no partial sum exceeds the mean
        p = np.exp(logp).astype(x.dtype)                # (N, K) softmax(logits)
        loss = x.dtype.type(loss)    # float16: a tiny loss may round to a subnormal
    return loss, (p, t)


def softmax_cross_entropy_backward(dloss, cache):
    """dlogits = dloss * (p - t) / N, shape (N, K): the VJP of the mean loss."""
    p, t = cache
    with np.errstate(under="ignore"):    # a tiny p / N may round to a subnormal
        return (dloss * (p - t) / p.shape[0]).astype(p.dtype, copy=False)


def nll_loss(logp, labels):
    """Mean negative log-likelihood -mean_n logp[n, labels[n]].

    logp    log-probabilities, shape (N, K) (for example log-softmax outputs)
    labels  integer class labels, shape (N,), values 0 .. K-1
    Returns a scalar of logp's dtype. Equals cross_entropy(exp(logp), one-hot).
    """
    logp, labels = np.asarray(logp), np.asarray(labels)
    N, K = logp.shape
    if np.any((labels < 0) | (labels >= K)):
        raise ValueError(f"labels must lie in 0 .. {K - 1}")
    return -np.sum(logp[np.arange(N), labels]) / N
