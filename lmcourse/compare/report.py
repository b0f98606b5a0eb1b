"""``results.md``: the comparison as a report that reads on GitHub or in Jupyter (tables + the figures linked).

The headline table keeps, for each N-gram smoothing, its best order *on valid* (choosing on test would flatter
it), and every neural model; the full grid of orders, the learning curves, the data-scaling runs and the
minimal-pair agreement follow. Ratios are test perplexity divided by KN5's (modified Kneser-Ney of order 5) and,
on a corpus sampled from a grammar, by the entropy floor: exp(cross-entropy - entropy) >= 1 for any model.
"""

from __future__ import annotations

import math

from lmcourse.compare.budgets import NGRAM_ORDERS, NGRAM_SMOOTHINGS, REFERENCE, SMOOTHING_NAMES

FIGURES = {"perplexity_by_model.png": "Test perplexity of each model",
           "perplexity_vs_order.png": "N-gram test perplexity against the order",
           "learning_curves.png": "Valid perplexity of the neural models during training",
           "perplexity_vs_size.png": "Test perplexity against the training tokens",
           "agreement.png": "Minimal-pair accuracy against the subject-verb distance"}


def ratio(value: float | None, reference: float | None) -> float | None:
    """value / reference, None where either is missing or infinite."""
    if value is None or reference is None or not math.isfinite(value) or not math.isfinite(reference):
        return None
    return value / reference


def floor_of(results: dict) -> float | None:
    """The entropy floor of the corpus's grammar, as the rows report it (None on other corpora)."""
    return next((row["floor_perplexity"] for row in results["rows"].values() if row.get("floor_perplexity")), None)


def scaling_groups(results: dict) -> dict[str, dict[float, dict]]:
    """{row name: {share of train: row}} for each model with data-scaling rows ("lstm" and "lstm@10%", ...)."""
    bases = {name.split("@")[0] for name in results["rows"] if "@" in name}
    groups: dict[str, dict[float, dict]] = {}
    for name, row in results["rows"].items():
        if name.split("@")[0] in bases:
            groups.setdefault(name.split("@")[0], {})[row["run"]["train_fraction"]] = row
    return groups


def fmt(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "∞" if value is not None else "n/a"
    return f"{value:,.{digits}f}"


def perplexity_cell(row: dict, split: str) -> str:
    """A split's perplexity; ``∞`` where a token had probability 0 (unsmoothed MLE), ``n/a`` where missing."""
    value = row.get(f"{split}_perplexity")
    if value is None and f"{split} perplexity is infinite" in row.get("note", ""):
        return "∞"
    return fmt(value)


def markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def headline_rows(rows: dict) -> list[dict]:
    """Each smoothing's best order on valid (full train only), then the neural models on full train."""
    chosen = []
    for smoothing in NGRAM_SMOOTHINGS:
        candidates = [row for row in rows.values() if row["family"] == "ngram" and row["run"]["smoothing"] ==
                      smoothing and row["run"]["train_fraction"] == 1.0 and row.get("valid_perplexity")]
        if candidates:
            chosen.append(min(candidates, key=lambda row: row["valid_perplexity"]))
    if REFERENCE in rows and rows[REFERENCE] not in chosen:
        chosen.append(rows[REFERENCE])
    return chosen + [row for row in rows.values() if row["family"] == "neural" and row["run"]["train_fraction"] == 1.0]


def model_table(results: dict, rows: list[dict]) -> list[str]:
    """model, size, valid and test perplexity, ratios, bits, training time, tokens/s."""
    reference = results["rows"].get(REFERENCE, {}).get("test_perplexity")
    floor = floor_of(results)
    char = results.get("corpus_info", {}).get("level") == "char"
    header = ["model", "parameters / N-grams", "valid ppl", "test ppl", "test / KN5"]
    header += ["test / floor"] if floor else []
    header += ["bits per character" if char else "bits per token", "training s", "tokens/s"]
    lines = []
    for row in rows:
        size = f"{row['parameters']:,} parameters" if "parameters" in row else f"{row.get('ngrams', 0):,} N-grams"
        bits = row.get("test_bits_per_character") if char else row.get("test_cross_entropy_bits")
        seconds = row.get("train_seconds", row.get("fit_seconds"))
        label = row["label"] + (" †" if stopped_by_the_clock(row) else "")
        cells = [label, size, perplexity_cell(row, "valid"), perplexity_cell(row, "test"),
                 fmt(ratio(row.get("test_perplexity"), reference), 3)]
        cells += [fmt(ratio(row.get("test_perplexity"), floor), 3)] if floor else []
        cells += [fmt(bits, 3), fmt(seconds, 2), fmt(row.get("tokens_per_second"), 0)]
        lines.append(cells)
    return markdown_table(header, lines) + clock_note(rows)


def stopped_by_the_clock(row: dict) -> bool:
    """A neural row whose time cap ended it before its steps: its figures depend on the machine's speed."""
    return row.get("stopped") == "time budget reached"


def clock_note(rows) -> list[str]:
    stopped = [row for row in rows if stopped_by_the_clock(row)]
    if not stopped:
        return []
    steps = ", ".join(f"{row['label']} {row['steps']:,} of {row['training']['steps']:,}" for row in stopped)
    return ["", f"† stopped by the budget's time cap before its planned steps ({steps}): on this machine this "
            "budget is too small for this corpus, and those figures depend on the machine's speed (a run of "
            "fixed steps is reproducible)."]


def order_table(results: dict) -> list[str]:
    """Test perplexity of each smoothing at each order (∞: an N-gram of test never seen in train)."""
    rows = results["rows"]
    body = []
    for smoothing in NGRAM_SMOOTHINGS:
        cells = [perplexity_cell(rows[f"{smoothing}-{order}"], "test") if f"{smoothing}-{order}" in rows
                 else "–" for order in NGRAM_ORDERS]
        if any(cell != "–" for cell in cells):
            body.append([SMOOTHING_NAMES[smoothing], *cells])
    return markdown_table(["smoothing", *(f"order {n}" for n in NGRAM_ORDERS)], body) if body else []


def scaling_table(results: dict) -> list[str]:
    """Test perplexity of the scaled models at each share of the training sentences."""
    groups = scaling_groups(results)
    if not any(len(by_fraction) > 1 for by_fraction in groups.values()):
        return []
    fractions = sorted({fraction for by_fraction in groups.values() for fraction in by_fraction})
    body = [[next(iter(by_fraction.values()))["label"].split(" (")[0],
             *(f"{fmt(by_fraction[f].get('test_perplexity'))} ({by_fraction[f]['train_tokens']:,} tokens)"
               if f in by_fraction else "–" for f in fractions)] for by_fraction in groups.values()]
    return markdown_table(["model", *(f"{f:.0%} of train" for f in fractions)], body)


def bucket_accuracy(agreement: dict, low: int, high: float) -> str:
    pairs = correct = 0
    for distance, cell in agreement.get("by_distance", {}).items():
        if low <= int(distance) <= high:
            pairs += cell["pairs"]
            correct += round(cell["accuracy"] * cell["pairs"])
    return f"{correct / pairs:.3f} ({pairs})" if pairs else "–"


def bucket_name(low: int, high: float) -> str:
    return f"distance {low}" if low == high else f"distance ≥ {low}" if math.isinf(high) else f"distance {low}–{high}"


def agreement_table(results: dict) -> list[str]:
    rows = [row for row in results["rows"].values() if "agreement" in row and row["run"]["train_fraction"] == 1.0
            and (row["family"] == "neural" or row["run"]["smoothing"] == "mkn")]
    if not rows:
        return []
    from lmcourse.synthetic.pairs import DISTANCE_BUCKETS

    header = ["model", "all pairs", *(bucket_name(low, high) for low, high in DISTANCE_BUCKETS), "0 attractors",
              "≥ 1 attractor"]
    body = []
    for row in rows:
        agreement = row["agreement"]
        by_attractors = agreement.get("by_attractors", {})
        none = by_attractors.get("0")
        some = [cell for key, cell in by_attractors.items() if int(key) > 0]
        some_pairs = sum(cell["pairs"] for cell in some)
        some_right = sum(round(cell["accuracy"] * cell["pairs"]) for cell in some)
        body.append([row["label"], f"{agreement['accuracy']:.3f} ({agreement['pairs']})",
                     *(bucket_accuracy(agreement, low, high) for low, high in DISTANCE_BUCKETS),
                     f"{none['accuracy']:.3f} ({none['pairs']})" if none else "–",
                     f"{some_right / some_pairs:.3f} ({some_pairs})" if some_pairs else "–"])
    return markdown_table(header, body)


def differences_table(results: dict) -> list[str]:
    """Each paired difference in test perplexity with its bootstrap interval (0 inside it: not resolved)."""
    rows = results["rows"]
    body = []
    for item in results.get("differences", []):
        verdict = "not resolved (0 inside)" if item["low"] <= 0 <= item["high"] else (
            f"{rows[item['a']]['label']} lower" if item["high"] < 0 else f"{rows[item['b']]['label']} lower")
        body.append([f"{rows[item['a']]['label']} − {rows[item['b']]['label']}", fmt(item["difference"]),
                     f"[{fmt(item['low'])}, {fmt(item['high'])}]", verdict])
    return markdown_table(["test perplexity difference", "value", "95% interval", "which is lower"], body) if body \
        else []


def write_report(results: dict, figures: list[str], command: str) -> str:
    """The text of ``results.md``."""
    info, machine = results.get("corpus_info", {}), results.get("machine", {})
    test_tokens = next((row["predicted_tokens"].get("test") for row in results["rows"].values()), None)
    lines = [f"# lmcourse compare: {results['corpus']}, budget {results['budget']}", "",
             f"Measured {results.get('started', '')} on {machine.get('cpu', '?')} ({machine.get('cores', '?')} "
             f"cores, {machine.get('torch_threads', '?')} torch threads, device {machine.get('device', '?')}; "
             f"torch {machine.get('torch', '?')}, lmcourse {machine.get('lmcourse', '?')}). Command: `{command}`.", ""]
    if test_tokens:
        lines += [f"Every model is scored on the same {test_tokens:,} predicted test tokens (every word and one "
                  f"`</s>` per sentence), with the same vocabulary of {info.get('vocab_size', 0):,} types.", ""]
    floor = floor_of(results)
    if floor:
        lines += [f"The corpus is sampled from a grammar whose entropy is known exactly: no model can have a test "
                  f"perplexity below the floor, {floor:.3f} (up to sampling noise).", ""]
    if not results.get("finished"):
        lines += ["**Unfinished run**: the rows below are the ones done so far (`--resume` continues).", ""]
    sections = [("The models (each smoothing at its best order on valid)", model_table(results,
                                                                                       headline_rows(results["rows"])),
                 "perplexity_by_model.png"),
                ("Differences with 95% paired-bootstrap intervals (test sentences resampled, 1,000 times)",
                 differences_table(results), ""),
                ("N-gram smoothing and order: test perplexity", order_table(results), "perplexity_vs_order.png"),
                ("Learning curves", [], "learning_curves.png"),
                ("Data scaling: test perplexity", scaling_table(results), "perplexity_vs_size.png"),
                ("Long-range agreement: minimal pairs (accuracy, pairs)", agreement_table(results), "agreement.png")]
    for title, table, figure in sections:
        if table or figure in figures:
            lines += [f"## {title}", ""] + table + ([""] if table else [])
            if figure in figures:
                lines += [f"![{FIGURES[figure]}]({figure})", ""]
    lines += ["## Every row", "", *model_table(results, list(results["rows"].values())), "",
              "All figures, configurations and timings: `results.json`."]
    return "\n".join(lines) + "\n"
