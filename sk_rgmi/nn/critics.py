"""Critic networks ``T(x, y)`` for the variational MI bounds.

A critic is any :class:`torch.nn.Module` whose ``forward(x, y)`` returns one score
per row, shape (B,) or (B, 1). Three are provided, and :func:`make_critic` builds
one from a registered name or from a user factory ``(x_dim, y_dim) -> nn.Module``:

* ``"two-branch"`` — :class:`TwoBranchCritic`, the original notebook's "Net 1": an
  x branch and a y branch whose hidden features are summed, then a head;
* ``"concat"`` — :class:`ConcatCritic`, the original notebook's "Net 2": ``[x, y]``
  concatenated, then residual ReLU layers;
* ``"separable"`` — :class:`SeparableCritic`, ``g(x) · h(y)`` (cheap score matrices,
  the usual InfoNCE critic).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.nn import functional as F

__all__ = [
    "CRITICS",
    "ConcatCritic",
    "MeanCritic",
    "MemberLinear",
    "SeparableCritic",
    "StackedCritic",
    "TwoBranchCritic",
    "make_critic",
]


class MemberLinear(nn.Module):
    """``M`` independent linear layers applied to ``M`` stacked inputs at once.

    The building block of the critics, so that an ensemble of ``n_members`` critics
    trains as one network (one batched matrix product per layer instead of a Python
    loop over critics). Input (M, B, in_features) gives (M, B, out_features); with
    ``n_members=1`` a plain (B, in_features) input is accepted too and behaves
    exactly like :class:`torch.nn.Linear` (same initialisation distribution).

    Parameters
    ----------
    in_features, out_features : int
    n_members : int, default=1

    Examples
    --------
    >>> import torch
    >>> from sk_rgmi.nn.critics import MemberLinear
    >>> layer = MemberLinear(3, 2, n_members=4)
    >>> layer(torch.zeros(4, 5, 3)).shape
    torch.Size([4, 5, 2])
    """

    def __init__(self, in_features: int, out_features: int, n_members: int = 1):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.n_members = n_members
        bound = 1.0 / math.sqrt(in_features)  # torch.nn.Linear's default init
        self.weight = nn.Parameter(
            torch.empty(n_members, out_features, in_features).uniform_(-bound, bound)
        )
        self.bias = nn.Parameter(
            torch.empty(n_members, 1, out_features).uniform_(-bound, bound)
        )

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 2 and self.n_members == 1:
            return F.linear(x, self.weight[0], self.bias[0, 0])
        return torch.baddbmm(self.bias, x, self.weight.transpose(1, 2))

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"n_members={self.n_members}"
        )


def _mlp(in_dim: int, hidden_size: int, n_layers: int, n_members: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(n_layers):
        width = in_dim if i == 0 else hidden_size
        layers += [MemberLinear(width, hidden_size, n_members), nn.ReLU()]
    return nn.Sequential(*layers)


def _check_sizes(**sizes: int) -> None:
    for name, value in sizes.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")


class TwoBranchCritic(nn.Module):
    """The original notebook's "Net 1": x and y branches, summed, then a small head.

    ``T(x, y) = head(relu(f(x) + g(y)))`` with ``f``, ``g`` MLPs of ``n_layers``
    ReLU layers of width ``hidden_size`` and a head ``hidden_size -> hidden_size//4
    -> 1`` (the original notebook used ``hidden_size=100``, two layers per branch).

    Parameters
    ----------
    x_dim, y_dim : int
        Number of features of x and y.
    hidden_size : int, default=100
    n_layers : int, default=2
        ReLU layers per branch.
    n_members : int, default=1
        Independent critics held as one network (an ensemble): inputs (M, B, d)
        give scores (M, B). With 1, (B, d) inputs give (B,) scores.

    Examples
    --------
    >>> import torch
    >>> from sk_rgmi.nn.critics import TwoBranchCritic
    >>> critic = TwoBranchCritic(9, 9, hidden_size=16)
    >>> critic(torch.zeros(5, 9), torch.zeros(5, 9)).shape
    torch.Size([5])
    """

    def __init__(
        self,
        x_dim: int,
        y_dim: int,
        hidden_size: int = 100,
        n_layers: int = 2,
        n_members: int = 1,
    ) -> None:
        super().__init__()
        _check_sizes(
            x_dim=x_dim,
            y_dim=y_dim,
            hidden_size=hidden_size,
            n_layers=n_layers,
            n_members=n_members,
        )
        self.n_members = n_members
        self.x_branch = _mlp(x_dim, hidden_size, n_layers, n_members)
        self.y_branch = _mlp(y_dim, hidden_size, n_layers, n_members)
        head = max(hidden_size // 4, 1)
        self.head = nn.Sequential(
            MemberLinear(hidden_size, head, n_members),
            nn.ReLU(),
            MemberLinear(head, 1, n_members),
        )

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return self.head(self.x_branch(x) + self.y_branch(y))[..., 0]


class ConcatCritic(nn.Module):
    """The original notebook's "Net 2": ``[x, y]`` through residual ReLU layers.

    ``h = relu(W_0 [x, y])``, then ``h = h + relu(W_k h)`` for ``k = 1 ..
    n_layers - 1``, then a linear output (the original notebook: ``hidden_size=100``,
    three layers).

    Parameters
    ----------
    x_dim, y_dim : int
    hidden_size : int, default=100
    n_layers : int, default=3
        Hidden layers including the first (non-residual) one.
    n_members : int, default=1
        Independent critics held as one network (see :class:`TwoBranchCritic`).

    Examples
    --------
    >>> import torch
    >>> from sk_rgmi.nn.critics import ConcatCritic
    >>> ConcatCritic(4, 4, hidden_size=8)(torch.ones(3, 4), torch.ones(3, 4)).shape
    torch.Size([3])
    >>> ConcatCritic(4, 4, hidden_size=8, n_members=5)(
    ...     torch.ones(5, 3, 4), torch.ones(5, 3, 4)).shape
    torch.Size([5, 3])
    """

    def __init__(
        self,
        x_dim: int,
        y_dim: int,
        hidden_size: int = 100,
        n_layers: int = 3,
        n_members: int = 1,
    ) -> None:
        super().__init__()
        _check_sizes(
            x_dim=x_dim,
            y_dim=y_dim,
            hidden_size=hidden_size,
            n_layers=n_layers,
            n_members=n_members,
        )
        self.n_members = n_members
        self.input = MemberLinear(x_dim + y_dim, hidden_size, n_members)
        self.residual = nn.ModuleList(
            MemberLinear(hidden_size, hidden_size, n_members)
            for _ in range(n_layers - 1)
        )
        self.output = MemberLinear(hidden_size, 1, n_members)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        h = torch.relu(self.input(torch.cat([x, y], dim=-1)))
        for layer in self.residual:
            h = h + torch.relu(layer(h))
        return self.output(h)[..., 0]


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
    n_members : int, default=1
        Independent critics held as one network (see :class:`TwoBranchCritic`).

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
        n_members: int = 1,
    ) -> None:
        super().__init__()
        _check_sizes(
            x_dim=x_dim,
            y_dim=y_dim,
            hidden_size=hidden_size,
            n_layers=n_layers,
            embed_dim=embed_dim,
            n_members=n_members,
        )
        self.n_members = n_members
        self.g = nn.Sequential(
            _mlp(x_dim, hidden_size, n_layers, n_members),
            MemberLinear(hidden_size, embed_dim, n_members),
        )
        self.h = nn.Sequential(
            _mlp(y_dim, hidden_size, n_layers, n_members),
            MemberLinear(hidden_size, embed_dim, n_members),
        )

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return (self.g(x) * self.h(y)).sum(dim=-1)

    def scores(self, x: Tensor, y: Tensor) -> Tensor:
        """Score matrix ``S[..., i, j] = T(x_i, y_j)``, shape (B, B) or (M, B, B)."""
        return self.g(x) @ self.h(y).transpose(-1, -2)


#: registered critic names -> classes ``cls(x_dim, y_dim, hidden_size=..., ...)``.
CRITICS: dict[str, type[nn.Module]] = {
    "two-branch": TwoBranchCritic,
    "concat": ConcatCritic,
    "separable": SeparableCritic,
}

CriticSpec = str | Callable[[int, int], nn.Module]


class StackedCritic(nn.Module):
    """``M`` copies of any critic module run as one network with ``torch.func``.

    How :func:`make_critic` makes an ensemble from a user factory: the members'
    parameters are stacked (:func:`torch.func.stack_module_state`) and the shared
    architecture is mapped over them with :func:`torch.func.vmap`, so inputs
    (M, B, d) give scores (M, B). (The registered critics stack their layers
    directly, :class:`MemberLinear`, which is faster.)

    Parameters
    ----------
    members : list of torch.nn.Module
        Critics of identical architecture, ``forward(x, y) -> (B,)`` or (B, 1).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from sk_rgmi.nn.critics import StackedCritic
    >>> class Dot(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w = nn.Parameter(torch.ones(2))
    ...     def forward(self, x, y):
    ...         return (x * y * self.w).sum(-1)
    >>> StackedCritic([Dot(), Dot(), Dot()])(
    ...     torch.ones(3, 4, 2), torch.ones(3, 4, 2)).shape
    torch.Size([3, 4])
    """

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        from torch.func import stack_module_state

        if not members:
            raise ValueError("StackedCritic needs at least one member.")
        params, buffers = stack_module_state(members)
        self.n_members = len(members)
        # parameter names contain dots: keep them in a ParameterDict with safe keys
        self._names = list(params)
        self.stacked = nn.ParameterDict(
            {name.replace(".", "__"): nn.Parameter(v) for name, v in params.items()}
        )
        for name, value in buffers.items():
            self.register_buffer("buffer__" + name.replace(".", "__"), value)
        self._buffer_names = list(buffers)
        # the architecture without storage ("meta" device), called functionally
        self._base = [copy.deepcopy(members[0]).to("meta")]

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        from torch.func import functional_call, vmap

        params = {n: self.stacked[n.replace(".", "__")] for n in self._names}
        buffers = {
            n: getattr(self, "buffer__" + n.replace(".", "__"))
            for n in self._buffer_names
        }
        base = self._base[0]

        def one(p: dict, b: dict, xm: Tensor, ym: Tensor) -> Tensor:
            out = functional_call(base, (p, b), (xm, ym))
            return out[:, 0] if out.dim() == 2 else out

        if x.dim() == 2:  # a single batch for every member
            return vmap(one, in_dims=(0, 0, None, None))(params, buffers, x, y)
        return vmap(one)(params, buffers, x, y)


class MeanCritic(nn.Module):
    """One critic from M stacked critics: the mean of their scores.

    ``forward(x, y)`` on (B, d) inputs gives (B,) scores. Averaging critics never
    lowers the Donsker–Varadhan bound (it is concave in the critic) and removes
    much of their training noise.

    Parameters
    ----------
    stacked : torch.nn.Module
        A module with ``n_members`` (see :func:`make_critic`).

    Examples
    --------
    >>> import torch
    >>> from sk_rgmi.nn.critics import MeanCritic, make_critic
    >>> mean = MeanCritic(make_critic("concat", 2, 2, hidden_size=4, n_members=3))
    >>> mean(torch.zeros(5, 2), torch.zeros(5, 2)).shape
    torch.Size([5])
    """

    def __init__(self, stacked: nn.Module) -> None:
        super().__init__()
        self.stacked = stacked

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        m = self.stacked.n_members
        return self.stacked(x.expand(m, -1, -1), y.expand(m, -1, -1)).mean(0)


def make_critic(
    critic: CriticSpec,
    x_dim: int,
    y_dim: int,
    *,
    hidden_size: int | None = None,
    n_layers: int | None = None,
    n_members: int = 1,
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
    n_members : int, default=1
        Number of independent critics held as one network (an ensemble trained
        together): the module then maps (M, B, d) inputs to (M, B) scores and has
        an ``n_members`` attribute. A factory is called ``n_members`` times and its
        modules are stacked (:class:`StackedCritic`).

    Returns
    -------
    torch.nn.Module

    Examples
    --------
    >>> from sk_rgmi.nn.critics import make_critic
    >>> type(make_critic("concat", 4, 4, hidden_size=8)).__name__
    'ConcatCritic'
    >>> make_critic("concat", 4, 4, hidden_size=8, n_members=5).n_members
    5
    """
    if isinstance(n_members, bool) or not isinstance(n_members, int) or n_members < 1:
        raise ValueError(f"n_members must be an integer >= 1, got {n_members!r}.")
    if isinstance(critic, str):
        if critic not in CRITICS:
            raise ValueError(
                f"Unknown critic {critic!r}; choose one of "
                f"{', '.join(map(repr, CRITICS))} or pass a factory "
                "(x_dim, y_dim) -> torch.nn.Module."
            )
        kwargs = {"n_members": n_members}
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
    members = [critic(x_dim, y_dim) for _ in range(n_members)]
    for module in members:
        if not isinstance(module, nn.Module):
            raise TypeError(
                f"The critic factory {critic!r} returned {type(module).__name__}, "
                "not a torch.nn.Module."
            )
    return members[0] if n_members == 1 else StackedCritic(members)
