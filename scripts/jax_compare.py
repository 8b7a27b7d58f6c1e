#!/usr/bin/env python3
"""The GMM and LSTM objectives of `cargo bench --bench report` written as a JAX user writes
them (GMM vectorised over points and components, LSTM a `lax.scan` over the sequence with each
layer's units as vectors), timed under `jax.jit` on the CPU in float64.

    python3 -m venv /tmp/jax && /tmp/jax/bin/pip install jax
    /tmp/jax/bin/python scripts/jax_compare.py              # all threads XLA wants
    taskset -c 0 /tmp/jax/bin/python scripts/jax_compare.py # one core, as the report's rows run

Prints, per size, the median time of the objective and of its gradient with respect to
(alphas, means, qs, ls), and their ratio. Not part of the tests or CI: JAX is an outside
comparison, run by hand beside `cargo bench -p autodiff-bench --bench report` (whose rows give
the objective's time and gradient/function, so ours is their product).

The objective is the report's (the ADBench GMM without its Wishart prior):
    NLL = n·(logsumexp(α) + d/2·ln 2π) − Σᵢ logsumexp_k(α_k + Σⱼ q_kj − ½‖Q_k (xᵢ − μ_k)‖²)
with Q_k lower triangular, exp(q_k) on its diagonal and L_k (row by row) below it. The LSTM is
ADBench's (diagonal weights, `+ 2` inside the log-sum-exp), laid out as the report's
`lstm(main_params, extra_params, state, sequence, layers, b)`; see its module docs.
"""

import math
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)


def gmm(alphas, means, qs, ls, x, rows, cols):
    n, d = x.shape
    k = alphas.shape[0]
    lower = jnp.zeros((k, d, d)).at[:, rows, cols].set(ls)
    q = lower + jax.vmap(jnp.diag)(jnp.exp(qs))
    xc = x[:, None, :] - means[None, :, :]  # n, K, d
    r = jnp.einsum("kjl,nkl->nkj", q, xc)
    beta = alphas + qs.sum(axis=1) - 0.5 * (r * r).sum(axis=2)
    lse = jax.scipy.special.logsumexp
    return n * (lse(alphas) + 0.5 * d * math.log(2 * math.pi)) - lse(beta, axis=1).sum()


def lstm(main_params, extra_params, state, sequence, layers, b):
    steps = sequence.shape[0] // b
    seq = sequence.reshape(steps, b)
    w = main_params.reshape(layers, 8, b)  # per layer: W_f, W_i, W_o, W_c, then their biases
    e_in, e_out, b_out = extra_params.reshape(3, b)
    s0 = state.reshape(layers, 2, b)  # per layer: h, c

    def step(s, t):
        x = seq[t] * e_in
        hs, cs = [], []
        for k in range(layers):
            h, c = s[k, 0], s[k, 1]
            wk = w[k]
            forget = jax.nn.sigmoid(x * wk[0] + wk[4])
            ingate = jax.nn.sigmoid(h * wk[1] + wk[5])
            outgate = jax.nn.sigmoid(x * wk[2] + wk[6])
            change = jnp.tanh(h * wk[3] + wk[7])
            c = c * forget + ingate * change
            h = outgate * jnp.tanh(c)
            hs.append(h)
            cs.append(c)
            x = h
        y = x * e_out + b_out
        lse = jnp.log(jnp.exp(y).sum() + 2.0)
        s = jnp.stack([jnp.stack([h, c]) for h, c in zip(hs, cs)])
        return s, (seq[t + 1] * (y - lse)).sum()

    _, terms = jax.lax.scan(step, s0, jnp.arange(steps - 1))
    return -terms.sum() / ((steps - 1) * b)


def median_time(f, args, min_seconds=1.0):
    jax.block_until_ready(f(*args))  # compile
    times = []
    start = time.perf_counter()
    while time.perf_counter() - start < min_seconds or len(times) < 20:
        t = time.perf_counter()
        jax.block_until_ready(f(*args))
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def main():
    sizes = [(2, 5), (5, 10), (10, 25), (20, 50)]
    n = 1000
    rng = np.random.default_rng(440)
    print(f"jax {jax.__version__}, devices {jax.devices()}", file=sys.stderr)
    print("| size | objective | gradient | gradient/objective |")
    print("|---|---:|---:|---:|")
    for d, k in sizes:
        tri = d * (d - 1) // 2
        rows, cols = np.tril_indices(d, -1)  # row by row, as the report's `ls`
        alphas = jnp.asarray(rng.normal(size=k))
        means = jnp.asarray(rng.normal(size=(k, d)))
        qs = jnp.asarray(0.1 * rng.normal(size=(k, d)))
        ls = jnp.asarray(0.1 * rng.normal(size=(k, tri)))
        x = jnp.asarray(rng.normal(size=(n, d)))
        f = jax.jit(lambda a, m, q, l, x: gmm(a, m, q, l, x, rows, cols))
        g = jax.jit(jax.grad(lambda a, m, q, l, x: gmm(a, m, q, l, x, rows, cols),
                             argnums=(0, 1, 2, 3)))
        args = (alphas, means, qs, ls, x)
        tf = median_time(f, args)
        tg = median_time(g, args)
        print(f"| GMM d={d} K={k} n={n} | {tf * 1e6:.1f} µs | {tg * 1e6:.1f} µs | {tg / tf:.2f} |")
    layers, b, c_len = 2, 64, 32  # the report's row: a sequence of 32 elements
    main_params = jnp.asarray(rng.normal(size=8 * b * layers))
    extra_params = jnp.asarray(rng.normal(size=3 * b))
    state = jnp.asarray(rng.normal(size=2 * b * layers))
    sequence = jnp.asarray(rng.normal(size=c_len * b))
    f = jax.jit(lambda m, e, s, q: lstm(m, e, s, q, layers, b))
    g = jax.jit(jax.grad(lambda m, e, s, q: lstm(m, e, s, q, layers, b), argnums=(0, 1)))
    args = (main_params, extra_params, state, sequence)
    tf = median_time(f, args)
    tg = median_time(g, args)
    print(f"| LSTM l={layers} hidden {b}, sequence {c_len} | {tf * 1e6:.1f} µs "
          f"| {tg * 1e6:.1f} µs | {tg / tf:.2f} |")


if __name__ == "__main__":
    main()
