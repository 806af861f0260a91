"""Plots in scikit-learn's Display style.

Each Display stores the numbers it draws; ``from_estimator`` reads them from a fitted
estimator and ``plot(ax=...)`` draws them, setting ``ax_`` and ``figure_``. matplotlib
is imported only when something is drawn, so importing :mod:`sk_rgmi.plotting` is
cheap.

- :class:`MIHistoryDisplay`: MI per epoch, training vs held-out, optional true value.
- :class:`FilterDisplay`: learned coarse-graining filters as heat maps in block shape.
- :class:`MICurveDisplay`: MI (with error bars) against temperature, block size or any
  other variable.

MI values are in the units of the estimator they come from (nats unless
``units="bits"``); the axis labels say which.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["FilterDisplay", "MICurveDisplay", "MIHistoryDisplay"]


def _get_axes(ax: Any) -> Any:
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    return ax


def _mi_label(units: str) -> str:
    return f"mutual information ({units})"


def _column(history: Any, key: str) -> np.ndarray | None:
    """One per-epoch series of a history, or None if absent.

    Accepts a mapping of arrays (``{"train_mi": [...], ...}``) or a sequence of
    per-epoch mappings (an estimator's ``history_``, skorch's ``History``). Entries
    missing in some epochs become NaN.
    """
    if isinstance(history, Mapping):
        value = history.get(key)
        return None if value is None else np.asarray(value, dtype=float).ravel()
    if isinstance(history, Sequence) and not isinstance(history, (str, bytes)):
        rows = list(history)
        if all(isinstance(row, Mapping) for row in rows) and any(
            key in row for row in rows
        ):
            return np.array([row.get(key, np.nan) for row in rows], dtype=float)
    return None


class MIHistoryDisplay:
    """MI per epoch: the training bound and the held-out estimate.

    Parameters
    ----------
    train_mi : array-like of shape (n_epochs,)
        MI bound on the training batches per epoch.
    valid_mi : array-like of shape (n_epochs,), default=None
        Held-out (validation) MI per epoch.
    epochs : array-like of shape (n_epochs,), default=None
        Epoch numbers; ``1..n_epochs`` when omitted.
    true_mi : float, default=None
        A reference value (closed form, or a count-based estimate) drawn as a
        horizontal line.
    units : {"nats", "bits"}, default="nats"
        Units of the values, used in the axis label.
    estimator_name : str, default=None
        Used in the legend.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes with the curves.
    figure_ : matplotlib Figure
        Figure containing the axes.
    lines_ : dict of str to matplotlib Line2D
        The drawn lines, keyed ``"train"``, ``"valid"``, ``"true"``.

    See Also
    --------
    MICurveDisplay : MI against an external variable.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sk_rgmi.plotting import MIHistoryDisplay
    >>> disp = MIHistoryDisplay([0.1, 0.3, 0.4], [0.1, 0.25, 0.33], true_mi=0.35)
    >>> disp = disp.plot()
    >>> sorted(disp.lines_)
    ['train', 'true', 'valid']
    """

    def __init__(
        self,
        train_mi: Any,
        valid_mi: Any = None,
        *,
        epochs: Any = None,
        true_mi: float | None = None,
        units: str = "nats",
        estimator_name: str | None = None,
    ) -> None:
        self.train_mi = train_mi
        self.valid_mi = valid_mi
        self.epochs = epochs
        self.true_mi = true_mi
        self.units = units
        self.estimator_name = estimator_name

    @classmethod
    def from_history(
        cls,
        history: Any,
        *,
        true_mi: float | None = None,
        units: str = "nats",
        estimator_name: str | None = None,
        ax: Any = None,
    ) -> MIHistoryDisplay:
        """Plot a history: per-epoch ``train_mi`` and, if present, ``valid_mi``.

        Parameters
        ----------
        history : mapping or sequence of mappings
            A mapping of per-epoch arrays (``{"train_mi": [...], "valid_mi": [...]}``)
            or a list of per-epoch dicts (an estimator's ``history_``, skorch's
            ``History``); an ``epoch`` entry gives the horizontal axis.
        true_mi : float, default=None
            Reference value drawn as a horizontal line.
        units : {"nats", "bits"}, default="nats"
            Units of the values.
        estimator_name : str, default=None
            Used in the legend.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when omitted.

        Returns
        -------
        display : MIHistoryDisplay

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from sk_rgmi.plotting import MIHistoryDisplay
        >>> hist = [{"epoch": 1, "train_mi": 0.2, "valid_mi": 0.15},
        ...         {"epoch": 2, "train_mi": 0.3, "valid_mi": 0.2}]
        >>> MIHistoryDisplay.from_history(hist).valid_mi.tolist()
        [0.15, 0.2]
        """
        train = _column(history, "train_mi")
        if train is None:
            raise ValueError("history has no per-epoch MI: expected a 'train_mi' key.")
        valid = _column(history, "valid_mi")
        epochs = _column(history, "epoch")
        disp = cls(
            train,
            valid,
            epochs=epochs,
            true_mi=true_mi,
            units=units,
            estimator_name=estimator_name,
        )
        return disp.plot(ax=ax)

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        *,
        true_mi: float | None = None,
        ax: Any = None,
    ) -> MIHistoryDisplay:
        """Plot the ``history_`` of a fitted neural estimator or coarse-grainer.

        Parameters
        ----------
        estimator : fitted estimator with ``history_``
            For instance :class:`~sk_rgmi.MINEEstimator` or
            :class:`~sk_rgmi.MIMaximizingCoarseGrainer`; the estimator's ``units``
            label the axis.
        true_mi : float, default=None
            Reference value drawn as a horizontal line.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when omitted.

        Returns
        -------
        display : MIHistoryDisplay

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from types import SimpleNamespace
        >>> from sk_rgmi.plotting import MIHistoryDisplay
        >>> est = SimpleNamespace(history_={"train_mi": [0.1, 0.2]}, units="bits")
        >>> MIHistoryDisplay.from_estimator(est).ax_.get_ylabel()
        'mutual information (bits)'
        """
        history = getattr(estimator, "history_", None)
        if history is None:
            raise ValueError(
                f"{type(estimator).__name__} has no history_: fit it first "
                "(only neural estimators record a per-epoch history)."
            )
        return cls.from_history(
            history,
            true_mi=true_mi,
            units=getattr(estimator, "units", "nats"),
            estimator_name=type(estimator).__name__,
            ax=ax,
        )

    def plot(self, ax: Any = None, **kwargs: Any) -> MIHistoryDisplay:
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when omitted.
        **kwargs : dict
            Passed to ``Axes.plot`` for both curves.

        Returns
        -------
        display : MIHistoryDisplay
            ``self``, with ``ax_``, ``figure_`` and ``lines_`` set.
        """
        ax = _get_axes(ax)
        train = np.asarray(self.train_mi, dtype=float).ravel()
        epochs = (
            np.arange(1, train.size + 1)
            if self.epochs is None
            else np.asarray(self.epochs, dtype=float).ravel()
        )
        prefix = f"{self.estimator_name}: " if self.estimator_name else ""
        lines = {}
        (lines["train"],) = ax.plot(
            epochs, train, label=f"{prefix}training bound", **kwargs
        )
        if self.valid_mi is not None:
            valid = np.asarray(self.valid_mi, dtype=float).ravel()
            (lines["valid"],) = ax.plot(
                epochs[: valid.size], valid, label=f"{prefix}held-out", **kwargs
            )
        if self.true_mi is not None:
            lines["true"] = ax.axhline(
                float(self.true_mi), color="k", ls="--", lw=1, label="reference"
            )
        ax.set_xlabel("epoch")
        ax.set_ylabel(_mi_label(self.units))
        ax.legend(loc="best")
        self.ax_ = ax
        self.figure_ = ax.figure
        self.lines_ = lines
        return self


class FilterDisplay:
    """Learned coarse-graining filters as heat maps in block shape.

    Parameters
    ----------
    filters : array-like of shape (n_components, n_features)
        One filter (row of ``components_``) per coarse variable.
    block_shape : tuple of int, default=None
        Shape a filter is drawn in; ``n_features`` must equal its product. A square
        shape is used when omitted (a single row when ``n_features`` is not square).
    titles : list of str, default=None
        One title per filter.

    Attributes
    ----------
    ax_ : ndarray of matplotlib Axes
        One axes per filter.
    figure_ : matplotlib Figure
        Figure containing the axes.
    images_ : list of matplotlib AxesImage
        One image per filter.
    colorbar_ : matplotlib Colorbar or None
        The colour bar (shared by all filters), None without one.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sk_rgmi.plotting import FilterDisplay
    >>> disp = FilterDisplay([[0.5, 0.5, 0.5, 0.5]], block_shape=(2, 2)).plot()
    >>> disp.images_[0].get_array().shape
    (2, 2)
    """

    def __init__(
        self,
        filters: Any,
        *,
        block_shape: tuple[int, ...] | None = None,
        titles: Sequence[str] | None = None,
    ) -> None:
        self.filters = filters
        self.block_shape = block_shape
        self.titles = titles

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        *,
        block_shape: tuple[int, ...] | None = None,
        ax: Any = None,
        **kwargs: Any,
    ) -> FilterDisplay:
        """Draw the ``components_`` of a fitted coarse-grainer.

        Parameters
        ----------
        estimator : fitted estimator with ``components_``
            For instance :class:`~sk_rgmi.MIMaximizingCoarseGrainer`.
        block_shape : tuple of int, default=None
            Defaults to the estimator's ``block_shape`` parameter when it has one.
        ax : matplotlib Axes or array of Axes, default=None
            One axes per filter; new ones when omitted.
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : FilterDisplay

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from types import SimpleNamespace
        >>> from sk_rgmi.plotting import FilterDisplay
        >>> est = SimpleNamespace(components_=[[1.0, -1.0, 1.0, -1.0]])
        >>> len(FilterDisplay.from_estimator(est).images_)
        1
        """
        components = getattr(estimator, "components_", None)
        if components is None:
            raise ValueError(
                f"{type(estimator).__name__} has no components_: fit it first."
            )
        if block_shape is None:
            block_shape = getattr(estimator, "block_shape", None)
        return cls(components, block_shape=block_shape).plot(ax=ax, **kwargs)

    def _shape(self, n_features: int) -> tuple[int, int]:
        if self.block_shape is not None:
            shape = tuple(int(s) for s in np.atleast_1d(self.block_shape))
            if math.prod(shape) != n_features:
                raise ValueError(
                    f"block_shape {shape} holds {math.prod(shape)} values but the "
                    f"filters have {n_features} features."
                )
            return (
                (1, shape[0]) if len(shape) == 1 else (shape[0], math.prod(shape[1:]))
            )
        side = math.isqrt(n_features)
        return (side, side) if side * side == n_features else (1, n_features)

    def plot(
        self,
        ax: Any = None,
        *,
        cmap: str = "RdBu_r",
        annotate: bool = True,
        colorbar: bool = True,
        colorbar_label: str = "filter weight",
    ) -> FilterDisplay:
        """Draw one heat map per filter on a symmetric colour scale.

        Parameters
        ----------
        ax : matplotlib Axes or array of Axes, default=None
            One axes per filter; a new row of axes when omitted.
        cmap : str, default="RdBu_r"
            A diverging colormap: negative weights blue, positive red.
        annotate : bool, default=True
            Write each weight in its cell.
        colorbar : bool, default=True
            Add a colour bar.
        colorbar_label : str, default="filter weight"
            Label of the colour bar.

        Returns
        -------
        display : FilterDisplay
            ``self``, with ``ax_``, ``figure_``, ``images_`` and ``colorbar_`` set.
        """
        import matplotlib.pyplot as plt

        filters = np.atleast_2d(np.asarray(self.filters, dtype=float))
        if filters.ndim != 2 or not np.all(np.isfinite(filters)):
            raise ValueError(
                "filters must be a finite array of shape (n_components, n_features)."
            )
        n_comp, n_features = filters.shape
        shape = self._shape(n_features)
        if ax is None:
            _, ax = plt.subplots(
                1, n_comp, figsize=(2.6 * n_comp + 0.8, 2.6), squeeze=False
            )
        axes = np.atleast_1d(np.asarray(ax, dtype=object)).ravel()
        if axes.size < n_comp:
            raise ValueError(
                f"need {n_comp} axes for {n_comp} filters, got {axes.size}"
            )
        vmax = float(np.max(np.abs(filters))) or 1.0
        images = []
        for k in range(n_comp):
            a = axes[k]
            img = filters[k].reshape(shape)
            im = a.imshow(img, cmap=cmap, vmin=-vmax, vmax=vmax)
            if annotate and img.size <= 64:
                for (i, j), w in np.ndenumerate(img):
                    # light text on the saturated ends of the colour map
                    colour = "white" if abs(w) > 0.6 * vmax else "black"
                    a.text(
                        j, i, f"{w:.2f}", ha="center", va="center", fontsize=8,
                        color=colour,
                    )  # fmt: skip
            a.set_xticks([])
            a.set_yticks([])
            title = self.titles[k] if self.titles is not None else f"filter {k + 1}"
            a.set_title(title)
            images.append(im)
        self.colorbar_ = None
        if colorbar:
            self.colorbar_ = axes[0].figure.colorbar(
                images[-1], ax=list(axes[:n_comp]), shrink=0.8, label=colorbar_label
            )
        self.ax_ = axes[:n_comp]
        self.figure_ = axes[0].figure
        self.images_ = images
        return self


class MICurveDisplay:
    """MI, with error bars, against temperature, block size or any other variable.

    Parameters
    ----------
    x : array-like of shape (n_points,)
        Values of the variable on the horizontal axis.
    mi : array-like of shape (n_points,)
        MI estimates.
    mi_std : array-like of shape (n_points,), default=None
        Error bars (one standard deviation).
    xlabel : str, default="x"
        Label of the horizontal axis (e.g. ``"temperature"``).
    units : {"nats", "bits"}, default="nats"
        Units of ``mi``, used in the axis label.
    label : str, default=None
        Legend entry.
    reference : float, default=None
        A horizontal reference line (e.g. ``ln 2`` for one binary unit).

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes with the curve.
    figure_ : matplotlib Figure
        Figure containing the axes.
    errorbar_ : matplotlib ErrorbarContainer
        The drawn curve.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sk_rgmi.plotting import MICurveDisplay
    >>> disp = MICurveDisplay([2.0, 2.27, 3.0], [0.6, 0.42, 0.1], [0.01, 0.02, 0.01],
    ...                       xlabel="temperature").plot()
    >>> disp.ax_.get_xlabel()
    'temperature'
    """

    def __init__(
        self,
        x: Any,
        mi: Any,
        mi_std: Any = None,
        *,
        xlabel: str = "x",
        units: str = "nats",
        label: str | None = None,
        reference: float | None = None,
    ) -> None:
        self.x = x
        self.mi = mi
        self.mi_std = mi_std
        self.xlabel = xlabel
        self.units = units
        self.label = label
        self.reference = reference

    @classmethod
    def from_estimators(
        cls,
        x: Any,
        estimators: Iterable[Any],
        *,
        xlabel: str = "x",
        label: str | None = None,
        reference: float | None = None,
        ax: Any = None,
        **kwargs: Any,
    ) -> MICurveDisplay:
        """Plot ``mi_`` (and ``mi_std_`` where present) of fitted estimators against x.

        Parameters
        ----------
        x : array-like of shape (n_points,)
            One value per estimator.
        estimators : iterable of fitted estimators
            Each with ``mi_``; ``mi_std_`` gives the error bar when present. A fitted
            :class:`~sklearn.pipeline.Pipeline` contributes its last step.
        xlabel : str, default="x"
            Label of the horizontal axis.
        label : str, default=None
            Legend entry.
        reference : float, default=None
            Horizontal reference line.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : MICurveDisplay

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from types import SimpleNamespace
        >>> from sk_rgmi.plotting import MICurveDisplay
        >>> ests = [SimpleNamespace(mi_=v, mi_std_=0.01) for v in (0.5, 0.3)]
        >>> MICurveDisplay.from_estimators([1, 2], ests, xlabel="L").mi.tolist()
        [0.5, 0.3]
        """
        ests = [e[-1] if hasattr(e, "steps") else e for e in estimators]
        x = np.asarray(x, dtype=float).ravel()
        if x.size != len(ests):
            raise ValueError(f"x has {x.size} values for {len(ests)} estimators.")
        missing = [type(e).__name__ for e in ests if not hasattr(e, "mi_")]
        if missing:
            raise ValueError(f"estimators without mi_ (not fitted?): {missing}")
        mi = np.array([float(e.mi_) for e in ests])
        stds = [getattr(e, "mi_std_", None) for e in ests]
        mi_std = (
            None
            if all(s is None for s in stds)
            else np.array([np.nan if s is None else float(s) for s in stds])
        )
        units = {getattr(e, "units", "nats") for e in ests}
        if len(units) > 1:
            raise ValueError(f"estimators report MI in different units: {units}")
        disp = cls(
            x,
            mi,
            mi_std,
            xlabel=xlabel,
            units=units.pop(),
            label=label,
            reference=reference,
        )
        return disp.plot(ax=ax, **kwargs)

    def plot(self, ax: Any = None, **kwargs: Any) -> MICurveDisplay:
        """Draw the curve.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when omitted.
        **kwargs : dict
            Passed to ``Axes.errorbar`` (defaults: ``marker="o"``, ``capsize=3``).

        Returns
        -------
        display : MICurveDisplay
            ``self``, with ``ax_``, ``figure_`` and ``errorbar_`` set.
        """
        ax = _get_axes(ax)
        x = np.asarray(self.x, dtype=float).ravel()
        mi = np.asarray(self.mi, dtype=float).ravel()
        if x.shape != mi.shape:
            raise ValueError(f"x has {x.size} values but mi has {mi.size}.")
        yerr = None
        if self.mi_std is not None:
            yerr = np.asarray(self.mi_std, dtype=float).ravel()
            if yerr.shape != mi.shape:
                raise ValueError(f"mi_std has {yerr.size} values but mi has {mi.size}.")
        style = {"marker": "o", "capsize": 3, **kwargs}
        self.errorbar_ = ax.errorbar(x, mi, yerr=yerr, label=self.label, **style)
        if self.reference is not None:
            ax.axhline(float(self.reference), color="k", ls="--", lw=1)
        ax.set_xlabel(self.xlabel)
        ax.set_ylabel(_mi_label(self.units))
        if self.label is not None:
            ax.legend(loc="best")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self
