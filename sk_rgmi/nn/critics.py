"""Critic networks ``T(x, y)`` for the variational MI bounds.

A critic is any :class:`torch.nn.Module` whose ``forward(x, y)`` returns one score
per row, shape (B,) or (B, 1). Three are provided, and :func:`make_critic` builds
one from a registered name or from a user factory ``(x_dim, y_dim) -> nn.Module``:

* ``"two-branch"`` — :class:`TwoBranchCritic`, the seed notebook's "Net 1": an x
  branch and a y branch whose hidden features are summed, then a head;
* ``"concat"`` — :class:`ConcatCritic`, the seed's "Net 2": ``[x, y]`` concatenated,
  then residual ReLU layers;
* ``"separable"`` — :class:`SeparableCritic`, ``g(x) · h(y)`` (cheap score matrices,
  the usual InfoNCE critic).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

__all__ = [
    "CRITICS",
    "ConcatCritic",
    "SeparableCritic",
    "TwoBranchCritic",
    "make_critic",
]


def _mlp(in_dim: int, hidden_size: int, n_layers: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(n_layers):
        layers += [nn.Linear(in_dim if i == 0 else hidden_size, hidden_size), nn.ReLU()]
    return nn.Sequential(*layers)


def _check_sizes(x_dim: int, y_dim: int, hidden_size: int, n_layers: int) -> None:
    for name, value, low in (
        ("x_dim", x_dim, 1),
        ("y_dim", y_dim, 1),
        ("hidden_size", hidden_size, 1),
        ("n_layers", n_layers, 1),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")


class TwoBranchCritic(nn.Module):
    """The seed's "Net 1": separate x and y branches, summed, then a small head.

    ``T(x, y) = head(relu(f(x) + g(y)))`` with ``f``, ``g`` MLPs of ``n_layers``
    ReLU layers of width ``hidden_size`` and a head ``hidden_size -> hidden_size//4
    -> 1`` (the seed used ``hidden_size=100``, two layers per branch).

    Parameters
    ----------
    x_dim, y_dim : int
        Number of features of x and y.
    hidden_size : int, default=100
    n_layers : int, default=2
        ReLU layers per branch.

    Examples
    --------
    >>> import torch
    >>> from sk_rgmi.nn.critics import TwoBranchCritic
    >>> critic = TwoBranchCritic(9, 9, hidden_size=16)
    >>> critic(torch.zeros(5, 9), torch.zeros(5, 9)).shape
    torch.Size([5])
    """

    def __init__(
        self, x_dim: int, y_dim: int, hidden_size: int = 100, n_layers: int = 2
    ) -> None:
        super().__init__()
        _check_sizes(x_dim, y_dim, hidden_size, n_layers)
        self.x_branch = _mlp(x_dim, hidden_size, n_layers)
        self.y_branch = _mlp(y_dim, hidden_size, n_layers)
        head = max(hidden_size // 4, 1)
        self.head = nn.Sequential(
            nn.Linear(hidden_size, head), nn.ReLU(), nn.Linear(head, 1)
        )

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return self.head(self.x_branch(x) + self.y_branch(y))[:, 0]


class ConcatCritic(nn.Module):
    """The seed's "Net 2": ``[x, y]`` through residual ReLU layers.

    ``h = relu(W_0 [x, y])``, then ``h = h + relu(W_k h)`` for ``k = 1 ..
    n_layers - 1``, then a linear output (the seed: ``hidden_size=100``, three
    layers).

    Parameters
    ----------
    x_dim, y_dim : int
    hidden_size : int, default=100
    n_layers : int, default=3
        Hidden layers including the first (non-residual) one.

    Examples
    --------
    >>> import torch
    >>> from sk_rgmi.nn.critics import ConcatCritic
    >>> ConcatCritic(4, 4, hidden_size=8)(torch.ones(3, 4), torch.ones(3, 4)).shape
    torch.Size([3])
    """

    def __init__(
        self, x_dim: int, y_dim: int, hidden_size: int = 100, n_layers: int = 3
    ) -> None:
        super().__init__()
        _check_sizes(x_dim, y_dim, hidden_size, n_layers)
        self.input = nn.Linear(x_dim + y_dim, hidden_size)
        self.residual = nn.ModuleList(
            nn.Linear(hidden_size, hidden_size) for _ in range(n_layers - 1)
        )
        self.output = nn.Linear(hidden_size, 1)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        h = torch.relu(self.input(torch.cat([x, y], dim=1)))
        for layer in self.residual:
            h = h + torch.relu(layer(h))
        return self.output(h)[:, 0]


class SeparableCritic(nn.Module):
    """Separable critic ``T(x, y) = g(x) · h(y)`` (embeddings of size ``embed_dim``).

    :meth:`scores` returns the full (B, B) score matrix at the cost of two
    embeddings, which is what InfoNCE-style training wants.

    Parameters
    ----------
    x_dim, y_dim : int
    hidden_size : int, default=100
    n_layers : int, default=2
        ReLU layers of each embedding network.
    embed_dim : int, default=32

    Examples
    --------
    >>> import torch
    >>> from sk_rgmi.nn.critics import SeparableCritic
    >>> c = SeparableCritic(2, 3, hidden_size=8, embed_dim=4)
    >>> c(torch.ones(6, 2), torch.ones(6, 3)).shape, c.scores(
    ...     torch.ones(6, 2), torch.ones(6, 3)).shape
    (torch.Size([6]), torch.Size([6, 6]))
    """

    def __init__(
        self,
        x_dim: int,
        y_dim: int,
        hidden_size: int = 100,
        n_layers: int = 2,
        embed_dim: int = 32,
    ) -> None:
        super().__init__()
        _check_sizes(x_dim, y_dim, hidden_size, n_layers)
        self.g = nn.Sequential(
            _mlp(x_dim, hidden_size, n_layers), nn.Linear(hidden_size, embed_dim)
        )
        self.h = nn.Sequential(
            _mlp(y_dim, hidden_size, n_layers), nn.Linear(hidden_size, embed_dim)
        )

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return (self.g(x) * self.h(y)).sum(dim=1)

    def scores(self, x: Tensor, y: Tensor) -> Tensor:
        """Score matrix ``S[i, j] = T(x_i, y_j)``, shape (B, B)."""
        return self.g(x) @ self.h(y).T


#: registered critic names -> classes ``cls(x_dim, y_dim, hidden_size=..., ...)``.
CRITICS: dict[str, type[nn.Module]] = {
    "two-branch": TwoBranchCritic,
    "concat": ConcatCritic,
    "separable": SeparableCritic,
}

CriticSpec = str | Callable[[int, int], nn.Module]


def make_critic(
    critic: CriticSpec,
    x_dim: int,
    y_dim: int,
    *,
    hidden_size: int | None = None,
    n_layers: int | None = None,
) -> nn.Module:
    """Build a critic from a registered name or a factory ``(x_dim, y_dim) -> module``.

    Parameters
    ----------
    critic : {"two-branch", "concat", "separable"} or callable
        A name from :data:`CRITICS`, or a factory called as ``critic(x_dim, y_dim)``
        whose module's ``forward(x, y)`` returns (B,) or (B, 1) scores.
    x_dim, y_dim : int
    hidden_size, n_layers : int or None
        Sizes for the registered critics (None: the class default). Ignored by
        factories, which own their architecture.

    Returns
    -------
    torch.nn.Module

    Examples
    --------
    >>> from sk_rgmi.nn.critics import make_critic
    >>> type(make_critic("concat", 4, 4, hidden_size=8)).__name__
    'ConcatCritic'
    """
    if isinstance(critic, str):
        if critic not in CRITICS:
            raise ValueError(
                f"Unknown critic {critic!r}; choose one of "
                f"{', '.join(map(repr, CRITICS))} or pass a factory "
                "(x_dim, y_dim) -> torch.nn.Module."
            )
        kwargs = {}
        if hidden_size is not None:
            kwargs["hidden_size"] = hidden_size
        if n_layers is not None:
            kwargs["n_layers"] = n_layers
        return CRITICS[critic](x_dim, y_dim, **kwargs)
    if isinstance(critic, nn.Module) or not callable(critic):
        raise TypeError(
            "critic must be a registered name or a factory (x_dim, y_dim) -> "
            f"torch.nn.Module (a class or function, not an instance); got {critic!r}."
        )
    module = critic(x_dim, y_dim)
    if not isinstance(module, nn.Module):
        raise TypeError(
            f"The critic factory {critic!r} returned {type(module).__name__}, not a "
            "torch.nn.Module."
        )
    return module
