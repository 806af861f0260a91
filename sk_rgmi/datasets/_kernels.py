"""Numba kernels of the Ising samplers (private).

Random numbers
--------------
Every chain owns one persistent Philox4x32-10 stream (Salmon, Moraes, Dror & Shaw,
"Parallel random numbers: as easy as 1, 2, 3", SC 2011): a counter-based generator
that passes TestU01's BigCrush, is the generator of cuRAND / JAX / NumPy's
``Philox`` family, and gives statistically independent streams for distinct keys.
The key of a chain is 64 bits drawn from its ``numpy.random.SeedSequence`` child;
the counter starts at 0 and never repeats within a chain (128-bit counter).
:func:`philox4x32_10` reproduces the Random123 known-answer vectors (tested).

Why not another generator (measured on this machine, one core, numba 0.68):
passing a ``numpy.random.Generator`` (PCG64 or Philox) into ``@njit`` costs
≈5.8 ns per double (an indirect call per draw); Wolff draws ≈2-3 numbers per
flipped spin, so that would add ≈15 ns to the ≈30 ns per flipped spin measured
with the inline generator (≈1.5× slower, close to the 1.5 s per independent
27×27-from-2187 configuration budget).
The inline Philox here gives four 32-bit words per block for ≈2–3 ns per word.
Plain xorshift (GF(2)-linear) is known to bias Wolff (Ferrenberg, Landau & Wong
1992) and reseeding per sweep biased Swendsen–Wang in our prototypes, so neither is
used. Probabilities are compared as 32-bit integers, ``u < floor(p * 2**32)``: the
quantisation error of ``p`` is below 2.4e-10.

State layout (``uint64[10]``, all words < 2**32): ``[k0, k1, c0, c1, c2, c3, idx,
b0, b1, b2]`` -- key, 128-bit counter, index of the next unused buffered word
(0..4; 4 = empty), and the last three words of the current block (``b0`` holds
word 1, etc.; word 0 is returned directly when a block is generated).

Lattice kernels
---------------
Spins are an ``int8`` (L, L) C-contiguous array of ±1, periodic boundaries, J = 1.
Memory: spins 1 byte/site, an explicit ``int32`` stack 4 bytes/site (clusters grow
iteratively, no recursion), Swendsen–Wang adds a 1-byte visited flag: at most
6 bytes/site.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_MASK32 = np.uint64(0xFFFFFFFF)
_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint64(0x9E3779B9)
_W1 = np.uint64(0xBB67AE85)
_ONE = np.uint64(1)
_SHIFT32 = np.uint64(32)


@njit(cache=True, nogil=True, inline="always")
def philox4x32_10(c0, c1, c2, c3, k0, k1):  # pragma: no cover - compiled
    """One Philox4x32-10 block: counter words c0..c3, key words k0, k1 (uint64)."""
    for r in range(10):
        p0 = _M0 * c0
        p1 = _M1 * c2
        hi0 = p0 >> _SHIFT32
        lo0 = p0 & _MASK32
        hi1 = p1 >> _SHIFT32
        lo1 = p1 & _MASK32
        c0 = hi1 ^ c1 ^ k0
        c1 = lo1
        c2 = hi0 ^ c3 ^ k1
        c3 = lo0
        if r < 9:
            k0 = (k0 + _W0) & _MASK32
            k1 = (k1 + _W1) & _MASK32
    return c0, c1, c2, c3


@njit(cache=True, nogil=True, inline="always")
def _next_u32(st):  # pragma: no cover - compiled
    idx = st[6]
    if idx < 4:
        st[6] = idx + _ONE
        return st[6 + idx]  # words 1, 2, 3 live in st[7], st[8], st[9]
    o0, o1, o2, o3 = philox4x32_10(st[2], st[3], st[4], st[5], st[0], st[1])
    # advance the 128-bit counter
    c = st[2] + _ONE
    st[2] = c & _MASK32
    if c > _MASK32:
        c = st[3] + _ONE
        st[3] = c & _MASK32
        if c > _MASK32:
            c = st[4] + _ONE
            st[4] = c & _MASK32
            if c > _MASK32:
                st[5] = (st[5] + _ONE) & _MASK32
    st[7] = o1
    st[8] = o2
    st[9] = o3
    st[6] = _ONE
    return o0


@njit(cache=True, nogil=True)
def draw_u32(st, n):  # pragma: no cover - compiled
    """``n`` consecutive 32-bit words of the stream (for tests)."""
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        out[i] = _next_u32(st)
    return out


@njit(cache=True, nogil=True, inline="always")
def _randbelow(st, n):  # pragma: no cover - compiled
    """Uniform integer in [0, n), n < 2**32, exact (Lemire's rejection method)."""
    nn = np.uint64(n)
    threshold = (np.uint64(0x100000000) - nn) % nn
    while True:
        m = _next_u32(st) * nn
        if (m & _MASK32) >= threshold:
            return np.int64(m >> _SHIFT32)


@njit(cache=True, nogil=True, inline="always")
def _neighbour(k, d, L, N):  # pragma: no cover - compiled
    """Site index of neighbour ``d`` (right, left, down, up) of site ``k`` on the
    periodic ``L × L`` lattice flattened row-major (``N = L * L``)."""
    i = k // L
    j = k - i * L
    row = k - j
    if d == 0:
        return row + j + 1 if j + 1 < L else row
    if d == 1:
        return row + j - 1 if j > 0 else row + L - 1
    if d == 2:
        return k + L if i + 1 < L else j
    return k - L if i > 0 else k + N - L


@njit(cache=True, nogil=True)
def wolff_clusters(spins, n_clusters, threshold, st, stack):  # pragma: no cover
    """Grow and flip ``n_clusters`` Wolff clusters; return the number of flipped spins.

    ``threshold = floor(p_add * 2**32)`` with ``p_add = 1 - exp(-2/T)``.
    """
    L = spins.shape[0]
    flat = spins.ravel()
    N = L * L
    total = 0
    for _ in range(n_clusters):
        seed = _randbelow(st, N)
        s0 = flat[seed]
        flat[seed] = -s0
        stack[0] = seed
        top = 1
        size = 1
        while top > 0:
            top -= 1
            k = stack[top]
            for d in range(4):
                nb = _neighbour(k, d, L, N)
                if flat[nb] == s0 and _next_u32(st) < threshold:
                    flat[nb] = -s0
                    stack[top] = nb
                    top += 1
                    size += 1
        total += size
    return total


@njit(cache=True, nogil=True)
def swendsen_wang_sweeps(
    spins, n_sweeps, threshold, st, stack, visited
):  # pragma: no cover
    """``n_sweeps`` Swendsen–Wang updates (every cluster flipped with probability 1/2).

    Bonds are decided lazily, each exactly once: a bond is drawn when its first end
    is taken from the stack while the other end is still unvisited; later the other
    end finds this one visited and skips it. Unvisited spins still hold their old
    value, so spins are flipped in place as clusters grow.
    """
    L = spins.shape[0]
    flat = spins.ravel()
    N = L * L
    for _ in range(n_sweeps):
        visited[:] = 0
        for start in range(N):
            if visited[start]:
                continue
            s0 = flat[start]
            new = -s0 if _next_u32(st) < np.uint64(0x80000000) else s0
            visited[start] = 1
            flat[start] = new
            stack[0] = start
            top = 1
            while top > 0:
                top -= 1
                k = stack[top]
                for d in range(4):
                    nb = _neighbour(k, d, L, N)
                    if (
                        visited[nb] == 0
                        and flat[nb] == s0
                        and _next_u32(st) < threshold
                    ):
                        visited[nb] = 1
                        flat[nb] = new
                        stack[top] = nb
                        top += 1
    return 0


@njit(cache=True, nogil=True)
def metropolis_sweeps(spins, n_sweeps, thresholds, st):  # pragma: no cover
    """``n_sweeps`` single-site Metropolis sweeps in checkerboard order.

    ``thresholds[h // 2]`` for ``h = s_i * (sum of neighbours)`` in {2, 4} is
    ``floor(exp(-2 h / T) * 2**32)``; moves with ``h <= 0`` are always accepted.
    Sites are updated one at a time and each update reads the *current* neighbours,
    so every single-site move satisfies detailed balance and the sweep (a fixed
    order) satisfies balance for any L. For even L the two colours are independent
    (the order equals a simultaneous sublattice update); for odd L the wrap-around
    neighbours share a colour, which would break a *simultaneous* (vectorised)
    checkerboard update but is harmless here.
    """
    L = spins.shape[0]
    for _ in range(n_sweeps):
        for colour in range(2):
            for i in range(L):
                up = i - 1 if i > 0 else L - 1
                down = i + 1 if i + 1 < L else 0
                for j in range((i + colour) % 2, L, 2):
                    left = j - 1 if j > 0 else L - 1
                    right = j + 1 if j + 1 < L else 0
                    s = spins[i, j]
                    h = s * (
                        spins[up, j] + spins[down, j] + spins[i, left] + spins[i, right]
                    )
                    if h <= 0 or _next_u32(st) < thresholds[h // 2]:
                        spins[i, j] = -s
    return 0


@njit(cache=True, nogil=True)
def bond_and_spin_sums(spins):  # pragma: no cover - compiled
    """``(sum over the 2N bonds of s_i s_j, sum of s_i)`` of a periodic ±1 lattice.

    The energy per spin is ``-bonds / N`` (J = 1) and the magnetisation per spin
    ``total / N``; one pass, no temporary arrays.
    """
    L = spins.shape[0]
    bonds = np.int64(0)
    total = np.int64(0)
    for i in range(L):
        down = i + 1 if i + 1 < L else 0
        for j in range(L):
            right = j + 1 if j + 1 < L else 0
            s = np.int64(spins[i, j])
            total += s
            bonds += s * (np.int64(spins[i, right]) + np.int64(spins[down, j]))
    return bonds, total
