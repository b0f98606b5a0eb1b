"""The comparison's line figures: the legend sits beside the axes, never over the lines it names."""

from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg

from lmcourse.compare.budgets import NGRAM_ORDERS, NGRAM_SMOOTHINGS
from lmcourse.compare.plots import perplexity_vs_order


def order_results() -> dict:
    """Every smoothing at every order, spread over the whole log axis (as add-one and KN are on synthetic)."""
    rows = {}
    for rank, smoothing in enumerate(NGRAM_SMOOTHINGS):
        for n in NGRAM_ORDERS:
            rows[f"{smoothing}-{n}"] = {"family": "ngram", "test_perplexity": 30.0 * (1 + rank) ** (n / 2),
                                        "floor_perplexity": 29.28}
    return {"corpus": "synthetic", "rows": rows}


def test_the_legend_is_beside_the_axes_inside_the_figure():
    figure = perplexity_vs_order(order_results())
    renderer = FigureCanvasAgg(figure).get_renderer()   # the figure is made without pyplot: give it a canvas
    axes = figure.axes[0]
    legend = axes.get_legend().get_window_extent(renderer)
    frame = axes.get_window_extent(renderer)
    assert legend.x0 > frame.x1                                      # right of the plotting area: covers no line
    assert 0 <= legend.x0 and legend.x1 <= figure.bbox.x1 and legend.y0 >= 0   # and not cut off by the figure
    assert len(axes.get_legend().get_texts()) == len(NGRAM_SMOOTHINGS) + 1     # every smoothing and the floor
