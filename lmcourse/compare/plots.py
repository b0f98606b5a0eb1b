"""The comparison's figures, from ``results.json`` alone (the only module of the library that uses matplotlib).

Each function draws one figure (a ``matplotlib.figure.Figure``, made without pyplot) and returns it;
:func:`save_figures` writes those the results have data for, as PNG files beside ``results.json``. Every
figure has a title, axes labelled with their units and a legend.
"""

from __future__ import annotations

from pathlib import Path

from lmcourse.compare.budgets import NGRAM_ORDERS, NGRAM_SMOOTHINGS, REFERENCE, SMOOTHING_NAMES
from lmcourse.compare.report import floor_of, scaling_groups
from lmcourse.files import atomic_output

FAMILY_COLORS = {"ngram": "tab:gray", "rnn": "tab:orange", "lstm": "tab:blue", "transformer": "tab:green"}
FAMILY_LABELS = {"ngram": "N-gram", "rnn": "Elman RNN", "lstm": "LSTM", "transformer": "Transformer"}
NGRAM_GRAYS = {2: "0.7", 3: "0.45", 5: "0.15"}  # the N-gram lines of the agreement figure, by order
SIZE = (7.5, 4.5)


def new_figure(size: tuple[float, float]):
    """A matplotlib Figure and its axes, made without pyplot: no window, no global state, and a notebook's
    inline backend left as it is (the figure is written with ``savefig``, or shown by returning it)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=size)
    return figure, figure.subplots()


def short_number(value: float, _=None) -> str:
    """20000 -> 20k, 1500000 -> 1.5M (tick labels of a token count)."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def plain_log_scale(axis, label=None) -> None:
    """A log scale labelled 20, 30, 50, 100 ... rather than 2 x 10^1: ticks at 1, 2, 3 and 5 of each decade, or at
    every integer multiple when the data span less than a decade (call it after plotting)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    low, high = sorted(axis.get_view_interval())
    narrow = low > 0 and high / low < 10
    axis.set_major_locator(LogLocator(subs=tuple(range(1, 10)) if narrow else (1.0, 2.0, 3.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(label or (lambda value, _: f"{value:g}")))
    axis.set_minor_formatter(NullFormatter())


def perplexity_axes(figure, axes, results: dict, title: str, xlabel: str, ylabel: str, floor_label: str = ""):
    """What the line figures of perplexity share: the floor as a dashed line (on a grammar's corpus), a log
    y-axis labelled in plain numbers, the title, the axis labels and the legend."""
    floor = floor_of(results)
    if floor:
        axes.axhline(floor, color="black", linestyle="--", label=f"entropy floor{floor_label} {floor:.2f}")
    axes.set_yscale("log")
    plain_log_scale(axes.yaxis)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    # beside the axes, not on them: on a log scale the lines of a comparison fill every corner
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    figure.tight_layout()
    return figure


def unit(results: dict) -> str:
    return "characters" if results.get("corpus_info", {}).get("level") == "char" else "tokens"


def perplexity_by_model(results: dict, rows: list[dict]):
    """Horizontal bars: test perplexity per model, the entropy floor as a vertical line."""
    rows = [row for row in rows if row.get("test_perplexity")]
    figure, axes = new_figure((SIZE[0], 0.45 * len(rows) + 1.6))
    colors = [FAMILY_COLORS.get(row["run"]["kind"] or "ngram", "tab:purple") for row in rows]
    values = [row["test_perplexity"] for row in rows]
    bars = axes.barh([row["label"] for row in rows], values, color=colors)
    axes.bar_label(bars, labels=[f"{v:.1f}" for v in values], padding=3, fontsize=8)
    axes.invert_yaxis()
    from matplotlib.patches import Patch

    handles = [Patch(color=color, label=FAMILY_LABELS[family]) for family, color in FAMILY_COLORS.items()
               if color in colors]
    floor = floor_of(results)
    if floor:
        handles.append(axes.axvline(floor, color="black", linestyle="--", label=f"entropy floor {floor:.2f}"))
    axes.set_xlim(0, max(values) * 1.15)
    axes.set_xlabel(f"test perplexity (per predicted {unit(results)[:-1]}; lower is better)")
    axes.set_title(f"Test perplexity on {results['corpus']} (same predicted {unit(results)})")
    axes.legend(handles=handles, loc="lower right", fontsize=8)
    figure.tight_layout()
    return figure


def perplexity_vs_order(results: dict):
    """N-gram test perplexity against N, one line per smoothing (MLE: only the finite points)."""
    figure, axes = new_figure(SIZE)
    rows = results["rows"]
    for smoothing in NGRAM_SMOOTHINGS:
        points = [(n, rows[f"{smoothing}-{n}"].get("test_perplexity")) for n in NGRAM_ORDERS
                  if f"{smoothing}-{n}" in rows]
        finite = [(n, value) for n, value in points if value]
        if finite:
            label = SMOOTHING_NAMES[smoothing] + (" (∞ at higher orders)" if len(finite) < len(points) else "")
            axes.plot(*zip(*finite), marker="o", label=label)
    axes.set_xticks(list(NGRAM_ORDERS))
    return perplexity_axes(figure, axes, results, f"N-gram smoothing against order on {results['corpus']}",
                           "order N (words of context + 1)", "test perplexity (log scale)")


def learning_curves(results: dict):
    """Valid perplexity of each neural model against wall-clock seconds of training; KN5 as a line."""
    figure, axes = new_figure(SIZE)
    for row in results["rows"].values():
        if row["family"] == "neural" and row["run"]["train_fraction"] == 1.0 and row.get("curve"):
            curve = [point for point in row["curve"] if point["valid_perplexity"] is not None]
            axes.plot([p["seconds"] for p in curve], [p["valid_perplexity"] for p in curve], marker=".",
                      color=FAMILY_COLORS.get(row["run"]["kind"]), label=row["label"])
    reference = results["rows"].get(REFERENCE, {}).get("valid_perplexity")
    if reference:
        axes.axhline(reference, color="tab:gray", linestyle="-.", label=f"KN5 (modified Kneser-Ney) {reference:.2f}")
    return perplexity_axes(figure, axes, results, f"Learning curves on {results['corpus']}",
                           "training time (seconds, wall clock)", "valid perplexity (log scale)", " (test)")


def perplexity_vs_size(results: dict):
    """Test perplexity against training tokens (log-log), one line per scaled model."""
    figure, axes = new_figure(SIZE)
    for base, by_fraction in sorted(scaling_groups(results).items()):
        points = sorted((row["train_tokens"], row["test_perplexity"]) for row in by_fraction.values()
                        if row.get("test_perplexity"))
        kind = next(iter(by_fraction.values()))["run"]["kind"] or "ngram"
        label = "KN5 (modified Kneser-Ney)" if base == REFERENCE else FAMILY_LABELS.get(base, base)
        axes.plot(*zip(*points), marker="o", color=FAMILY_COLORS.get(kind), label=label)
    axes.set_xscale("log")
    plain_log_scale(axes.xaxis, short_number)
    return perplexity_axes(figure, axes, results, f"Data scaling on {results['corpus']}: 10%, 30%, 100% of train",
                           f"training {unit(results)} (log scale)", "test perplexity (log scale)")


def agreement(results: dict):
    """Minimal-pair accuracy against subject-verb distance, one line per model; chance at 0.5."""
    figure, axes = new_figure(SIZE)
    for row in results["rows"].values():
        chosen = row["family"] == "neural" or row["run"]["smoothing"] == "mkn" and row["run"]["order"] in (2, 3, 5)
        if "agreement" not in row or row["run"]["train_fraction"] != 1.0 or not chosen:
            continue
        cells = sorted((int(d), cell) for d, cell in row["agreement"]["by_distance"].items() if cell["pairs"] >= 10)
        if cells:
            neural = row["family"] == "neural"
            axes.plot([d for d, _ in cells], [cell["accuracy"] for _, cell in cells], marker="o" if neural else "s",
                      color=FAMILY_COLORS[row["run"]["kind"]] if neural else NGRAM_GRAYS[row["run"]["order"]],
                      linestyle="-" if neural else ":", label=row["label"])
    axes.axhline(0.5, color="black", linestyle="--", label="chance (0.5)")
    axes.set_ylim(0, 1.05)
    axes.set_xlabel("subject–verb distance (words; points with at least 10 pairs)")
    axes.set_ylabel("accuracy: share of pairs with p(good) > p(bad)")
    axes.set_title(f"Subject–verb agreement on {results['corpus']}'s minimal pairs")
    axes.legend(fontsize=8, loc="lower left")
    figure.tight_layout()
    return figure


def save_figures(results: dict, out: Path, headline: list[dict]) -> list[str]:
    """Write every figure the results have data for; returns their file names."""
    rows = results["rows"].values()
    wanted = {
        "perplexity_by_model.png": (lambda: perplexity_by_model(results, headline), bool(headline)),
        "perplexity_vs_order.png": (lambda: perplexity_vs_order(results),
                                    any(row["family"] == "ngram" for row in rows)),
        "learning_curves.png": (lambda: learning_curves(results), any(row.get("curve") for row in rows)),
        "perplexity_vs_size.png": (lambda: perplexity_vs_size(results), any("@" in row["name"] for row in rows)),
        "agreement.png": (lambda: agreement(results), any("agreement" in row for row in rows)),
    }
    written = []
    for name, (draw, has_data) in wanted.items():
        if not has_data:
            continue
        figure = draw()
        with atomic_output(out / name, suffix=".png") as tmp:
            figure.savefig(tmp, dpi=120)
        written.append(name)
    return written
