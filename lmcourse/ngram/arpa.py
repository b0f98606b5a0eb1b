"""ARPA files: the standard text format of backoff N-gram models (SRILM, KenLM, ...).

    \\data\\
    ngram 1=4                       how many N-grams of each order follow
    ngram 2=3

    \\1-grams:
    -99         <s>     -0.30103    log10 p(w)   w   log10 b(w)   (the backoff weight is optional, default 0)
    -0.69897    </s>
    ...
    \\2-grams:
    -0.30103    <s> a               log10 p(w | h)   h w   [log10 b(h w) for orders below the highest]
    ...
    \\end\\

A reader scores with the backoff rule of :mod:`lmcourse.ngram.base`. ``<s>`` gets probability 0 (written
-99, by convention) and is only a context. Files are written atomically (a temporary file, then a rename).
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import numpy as np

from lmcourse.data.vocabulary import BOS_ID, SPECIAL_TOKENS, Vocabulary
from lmcourse.errors import UserError
from lmcourse.files import atomic_output, check_output_path
from lmcourse.ngram.base import BackoffModel, BackoffTables
from lmcourse.ngram.counting import OrderTable

LOG10 = math.log(10.0)
ARPA_ZERO = -99.0  # log10 of probability 0 in ARPA files


def _format_log10(values: np.ndarray) -> list[str]:
    log10 = np.asarray(values, dtype=np.float64) / LOG10
    log10 = np.where(np.isfinite(log10), log10, ARPA_ZERO)
    return [f"{x:.7g}" for x in np.maximum(log10, ARPA_ZERO)]


def write_arpa(model: BackoffModel, path: str | os.PathLike) -> Path:
    """Write a backoff-form model (modified KN, Katz, backoff KN, ...) as an ARPA file, atomically."""
    if not isinstance(model, BackoffModel) or model.backoff is None:
        raise UserError(f"{type(model).__name__} has no backoff form to write as ARPA (fit it first; "
                        "add-k smoothing cannot be written as ARPA)")
    if not model.normalized:
        raise UserError(f"{type(model).__name__} gives unnormalized scores, which an ARPA file cannot hold")
    if model.vocab is None:
        raise UserError("writing ARPA needs the model's vocabulary: fit it with a Corpus or vocab=...")
    tables = model.backoff
    tokens = model.vocab.id_to_token
    for token in tokens:
        if not token or re.search(r"\s", token):
            raise UserError(f"cannot write ARPA: the word {token!r} is empty or contains white space")
    path = check_arpa_target(path)
    try:
        _write_tables(tables, tokens, path)
    except OSError as error:
        raise UserError(f"cannot write ARPA file {path}: {error.strerror or error}") from None
    return path


def check_arpa_target(path: str | os.PathLike) -> Path:
    """Refuse, before any work, an ARPA output path that is a folder or whose folder does not exist."""
    return check_output_path(path, "ARPA file")


def _write_tables(tables: BackoffTables, tokens: list[str], path: Path) -> None:
    with atomic_output(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        out.write("\\data\\\n")
        for k in range(1, tables.order + 1):
            out.write(f"ngram {k}={len(tables.tables[k])}\n")
        text = {1: tokens}
        for k in range(1, tables.order + 1):
            out.write(f"\n\\{k}-grams:\n")
            if k > 1:
                previous, word_ids = text[k - 1], tables.tables[k].words
                text[k] = [previous[c] + " " + tokens[w] for c, w in zip(tables.tables[k].contexts.tolist(),
                                                                      word_ids.tolist())]
            probs = _format_log10(np.minimum(tables.log_prob[k], 0.0))  # p <= 1 (no rounding above)
            if k < tables.order:
                backoffs = _format_log10(tables.log_backoff[k])
                out.writelines(f"{p}\t{g}\t{b}\n" if b != "0" else f"{p}\t{g}\n"
                               for p, g, b in zip(probs, text[k], backoffs))
            else:
                out.writelines(f"{p}\t{g}\n" for p, g in zip(probs, text[k]))
            if k > 2:
                del text[k - 1]
        out.write("\n\\end\\\n")


# a decimal number as ARPA writers print it (Python's float() would also take "1_0", "nan", "infinity")
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


LARGEST_LOG10 = 99.0  # ARPA files write log10(0) as -99; a log10 beyond +-99 is a damaged value, not a weight


def _parse_float(field: str, path, line_number: int, what: str) -> float:
    """A log10 value: a plain decimal number within +-99; a probability may also be ``-inf`` (probability 0)."""
    infinities = {"-inf": -math.inf, "-infinity": -math.inf, "inf": math.inf, "+inf": math.inf}
    if what == "probability" and field.lower() in infinities:
        return infinities[field.lower()]  # -inf: probability 0; +inf: refused by the caller as positive
    value = float(field) if NUMBER.fullmatch(field) else None
    if value is None or not abs(value) <= LARGEST_LOG10:
        raise UserError(f"{path}:{line_number}: malformed ARPA file: {what} {field[:40]!r} is not a number "
                        "(a decimal within +-99, such as -0.4771)")
    return value


def read_arpa_entries(path: str | os.PathLike) -> dict[int, tuple[list[tuple[str, ...]], list[float], list[float]]]:
    """Parse an ARPA file into {order: (ngrams as word tuples, log10 probs, log10 backoffs)}.

    Any problem (no \\data\\ header, a bad ``ngram k=n`` line, a line with the wrong number of fields, a
    non-numeric or positive log10 probability, fewer or more N-grams than the header says, no \\end\\)
    raises UserError naming the file and line.
    """
    return {k: (ngrams, probs, backoffs) for k, (ngrams, probs, backoffs, _) in _parse_arpa(path).items()}


def _parse_arpa(path: str | os.PathLike) -> dict[int, tuple[list, list, list, list]]:
    """:func:`read_arpa_entries`, with a fourth list per order: the line number of each N-gram."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"ARPA file {path} not found")
    declared: dict[int, int] = {}
    entries: dict[int, tuple[list, list, list]] = {}
    section = "start"
    order = 0
    last_line = 0
    with open(path, "rb") as lines:
        for line_number, raw_bytes in enumerate(lines, start=1):
            last_line = line_number
            line = _decode(raw_bytes, path, line_number).strip()
            if section == "start":
                if line == "\\data\\":
                    section = "header"
                elif line:
                    raise UserError(f"{path}:{line_number}: malformed ARPA file: expected '\\data\\', "
                                    f"found {line[:40]!r}")
                continue
            if section == "header":
                if not line:
                    continue
                match = re.fullmatch(r"ngram\s+(\d+)\s*=\s*(\d+)", line)
                if match:
                    k, n = int(match.group(1)), int(match.group(2))
                    if k != len(declared) + 1:
                        raise UserError(f"{path}:{line_number}: malformed ARPA file: counts header lists "
                                        f"order {k} where order {len(declared) + 1} was expected")
                    declared[k] = n
                    continue
                if line.startswith("\\") and line.endswith("-grams:"):
                    if not declared:
                        raise UserError(f"{path}:{line_number}: malformed ARPA file: no 'ngram k=n' counts "
                                        "before the first section")
                    section = "body"
                else:
                    raise UserError(f"{path}:{line_number}: malformed ARPA file: bad counts header line "
                                    f"{line[:60]!r} (expected 'ngram k=n')")
            # body
            if not line:
                continue
            if line == "\\end\\":
                section = "end"
                break
            match = re.fullmatch(r"\\(\d+)-grams:", line)
            if match:
                if order and len(entries[order][0]) != declared[order]:
                    raise UserError(f"{path}:{line_number}: malformed ARPA file: the header declares "
                                    f"{declared[order]} {order}-grams but {len(entries[order][0])} were listed")
                order = int(match.group(1))
                if order not in declared or order in entries:
                    raise UserError(f"{path}:{line_number}: malformed ARPA file: unexpected section "
                                    f"'{line}' (header declares orders 1..{len(declared)})")
                entries[order] = ([], [], [], [])
                continue
            if order == 0:
                raise UserError(f"{path}:{line_number}: malformed ARPA file: an N-gram line before any "
                                "'\\k-grams:' section")
            fields = line.split()
            if len(fields) not in (order + 1, order + 2):
                raise UserError(f"{path}:{line_number}: malformed ARPA file: a {order}-gram line needs "
                                f"{order + 1} or {order + 2} fields, found {len(fields)}")
            ngrams, probs, backoffs, line_numbers = entries[order]
            probability = _parse_float(fields[0], path, line_number, "probability")
            if probability > 0:
                raise UserError(f"{path}:{line_number}: malformed ARPA file: log10 probability {fields[0]} "
                                "is positive (a probability above 1)")
            probs.append(probability)
            line_numbers.append(line_number)
            ngrams.append(tuple(fields[1:order + 1]))
            backoffs.append(_parse_float(fields[order + 1], path, line_number, "backoff weight")
                            if len(fields) == order + 2 else 0.0)
            if len(ngrams) > declared[order]:
                raise UserError(f"{path}:{line_number}: malformed ARPA file: more {order}-grams than the "
                                f"{declared[order]} the header declares")
    if section != "end":
        raise UserError(f"{path}:{last_line}: malformed ARPA file: truncated (no '\\end\\' line)")
    for k, n in declared.items():
        entries.setdefault(k, ([], [], [], []))  # an empty order may leave out its section
        found = len(entries[k][0])
        if found != n:
            raise UserError(f"{path}:{last_line}: malformed ARPA file: the header declares {n} {k}-grams "
                            f"but {found} were listed")
    if not entries[1][0]:
        raise UserError(f"{path}: malformed ARPA file: it lists no 1-grams")
    return entries


def _decode(raw: bytes, path, line_number: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(f"{path}:{line_number}: not a text ARPA file: byte {raw[error.start]:#04x} is not UTF-8 "
                        "(KenLM's binary files are not read here: give the .arpa text file)") from None


class ArpaModel(BackoffModel):
    """A backoff model read from an ARPA file; it scores like any other model but cannot be re-fitted."""

    smoothing = "arpa"

    def fit(self, data, vocab=None, vocab_size=None, memory=None):
        raise UserError("an ArpaModel is read from a file and cannot be fitted; fit a model, then write_arpa")

    @classmethod
    def from_file(cls, path: str | os.PathLike, vocab: Vocabulary | None = None) -> ArpaModel:
        return read_arpa(path, vocab=vocab)


def _fail_at_first(path, entries: tuple[list, list, list, list], mask: np.ndarray, problem: str) -> None:
    """Raise a UserError at the line of the first N-gram (in file order) where ``mask`` is set; ``problem``
    names it with ``{ngram}``."""
    ngrams, _, _, line_numbers = entries
    first = int(np.flatnonzero(mask)[0])
    ngram = f"{len(ngrams[first])}-gram '{' '.join(ngrams[first])}'"
    raise UserError(f"{path}:{line_numbers[first]}: malformed ARPA file: " + problem.format(ngram=ngram))


def read_arpa(path: str | os.PathLike, vocab: Vocabulary | None = None, check_normalization: bool = False,
              tolerance: float = 1e-4) -> ArpaModel:
    """Read an ARPA file into an :class:`ArpaModel`.

    With ``vocab`` the model uses those ids (so it can score a corpus encoded with that vocabulary); every
    word of the file must be in it, and vocabulary ids missing from the file get probability 0. Without,
    the vocabulary is the file's unigrams (``<unk>``, ``<s>``, ``</s>`` first). ``check_normalization``
    refuses a file whose distribution after some context does not sum to 1 within ``tolerance``
    (:func:`normalization_error`), naming the worst context.
    """
    model = _read_arpa(path, vocab)
    if check_normalization:
        deviation, context, total = normalization_error(model)
        if not deviation <= tolerance:
            raise UserError(f"{path}: the probabilities after the context {' '.join(context) or '(none)'!r} sum to "
                            f"{total:.6g}, not 1 (tolerance {tolerance:g}): the file is damaged or was edited by "
                            "hand; write it again")
    return model


def _read_arpa(path: str | os.PathLike, vocab: Vocabulary | None) -> ArpaModel:
    entries = _parse_arpa(path)
    order = max(entries)
    unigram_words = [g[0] for g in entries[1][0]]
    first_line_of: dict[str, int] = {}
    for word, line_number in zip(unigram_words, entries[1][3]):
        if word in first_line_of:
            raise UserError(f"{path}:{line_number}: malformed ARPA file: the 1-gram {word!r} is listed twice "
                            f"(first on line {first_line_of[word]})")
        first_line_of[word] = line_number
    given_vocab = vocab is not None
    if vocab is None:
        vocab = Vocabulary(w for w in unigram_words if w not in SPECIAL_TOKENS)
    V = len(vocab)

    def ids_of(k: int) -> np.ndarray:
        words_list, line_numbers = entries[k][0], entries[k][3]
        ids = np.empty((len(words_list), k), dtype=np.int64)
        for row, (words, line_number) in enumerate(zip(words_list, line_numbers)):
            for j, word in enumerate(words):
                index = vocab.token_to_id.get(word)
                if index is None and given_vocab and k == 1:
                    raise UserError(f"{path}:{line_number}: the ARPA word {word!r} is not in the given "
                                    "vocabulary")
                if index is None or (k > 1 and word not in first_line_of):
                    raise UserError(f"{path}:{line_number}: malformed ARPA file: the word {word!r} of the "
                                    f"{k}-gram '{' '.join(words)}' is not listed among the 1-grams")
                ids[row, j] = index
        return ids

    tables: dict[int, OrderTable] = {}
    log_prob: dict[int, np.ndarray] = {}
    log_backoff: dict[int, np.ndarray] = {}
    unigram_ids = ids_of(1)[:, 0]
    log_prob[1] = np.full(V, -np.inf)
    backoff1 = np.zeros(V)
    probs = np.asarray(entries[1][1]) * LOG10
    log_prob[1][unigram_ids] = np.where(np.asarray(entries[1][1]) <= ARPA_ZERO, -np.inf, probs)
    backoff1[unigram_ids] = np.asarray(entries[1][2]) * LOG10
    tables[1] = OrderTable(1, np.arange(V, dtype=np.int64), np.zeros(V, np.int64), np.full(V, -1, np.int64),
                           np.zeros(V, bool), V)
    log_backoff[1] = backoff1
    for k in range(2, order + 1):
        ngram_ids = ids_of(k)

        # row of each N-gram's context in order k-1: chain the lookups through the orders
        row = ngram_ids[:, 0].copy()
        for j in range(2, k):
            key = row * V + ngram_ids[:, j - 1]
            keys_j = tables[j].keys
            position = np.minimum(np.searchsorted(keys_j, key), max(len(keys_j) - 1, 0))
            missing = keys_j[position] != key if len(keys_j) else np.ones(len(key), dtype=bool)
            if missing.any():
                _fail_at_first(path, entries[k], missing,
                               f"the context of the {{ngram}} is not listed among the {j}-grams")
            row = position
        keys = row * V + ngram_ids[:, -1]
        sort = np.argsort(keys, kind="stable")
        keys = keys[sort]
        repeated = np.zeros(len(keys), dtype=bool)
        repeated[sort[1:]] = keys[1:] == keys[:-1]  # the later of two equal keys (stable sort)
        if repeated.any():
            _fail_at_first(path, entries[k], repeated, "the {ngram} is listed twice")
        p = np.asarray(entries[k][1])[sort]
        log_prob[k] = np.where(p <= ARPA_ZERO, -np.inf, p * LOG10)
        log_backoff[k] = np.asarray(entries[k][2])[sort] * LOG10
        n = len(keys)
        tables[k] = OrderTable(k, keys, np.zeros(n, np.int64), np.full(n, -1, np.int64), np.zeros(n, bool), V)
    del log_backoff[order]
    model = ArpaModel(order)
    model.vocab, model.vocab_size = vocab, V
    model.backoff = BackoffTables(tables, log_prob, log_backoff, V)
    return model


# -- is it a distribution? ------------------------------------------------------------------------------------
def normalization_error(model: BackoffModel) -> tuple[float, list[str], float]:
    """The largest |sum_w p(w | h) - 1| over the unigrams and every stored context h, that context (its
    words; [] for the unigrams) and its sum.

    For a context h (a stored (k-1)-gram) the backoff rule gives, exactly,

        sum_w p(w | h) = sum_{w seen after h} p*(h, w) + b(h) * (1 - sum_{w seen after h} p(w | h'))

    with p(w | h') the lower order's full (backoff) probability; all of it is computed with numpy.
    """
    t = model.backoff
    unigram = np.exp(t.log_prob[1])
    unigram[BOS_ID] = 0.0
    worst_total, worst_context = float(unigram.sum()), []
    worst = abs(worst_total - 1.0)
    ids = {1: np.arange(t.vocab_size, dtype=np.int64)[:, None]}                # the words of every N-gram
    for k in range(2, t.order + 1):
        table = t.tables[k]
        ids[k] = np.hstack([ids[k - 1][table.contexts], table.words[:, None]])   # (n_k, k)
        lower = np.exp(_backoff_log_prob(t, ids[k][:, 1:]))                       # p(w | h') per k-gram
        rows = len(t.tables[k - 1])
        seen = np.bincount(table.contexts, weights=np.exp(t.log_prob[k]), minlength=rows)
        room = 1.0 - np.bincount(table.contexts, weights=lower, minlength=rows)
        with np.errstate(invalid="ignore", over="ignore"):
            total = seen + np.exp(t.log_backoff[k - 1]) * room
        deviation = np.where(np.isfinite(total), np.abs(total - 1.0), np.inf)
        row = int(np.argmax(deviation))
        if deviation[row] > worst:
            worst, worst_context, worst_total = float(deviation[row]), ids[k - 1][row].tolist(), float(total[row])
    words = model.vocab.decode(worst_context) if model.vocab is not None else [str(i) for i in worst_context]
    return worst, list(words), worst_total


def _backoff_log_prob(tables: BackoffTables, ids: np.ndarray) -> np.ndarray:
    """log p(w | h) by the backoff rule for each row (h..., w) of ``ids``."""
    if ids.shape[1] == 1:
        return tables.log_prob[1][ids[:, 0]]
    rows = _rows_of(tables, ids)
    context_rows = _rows_of(tables, ids[:, :-1])
    backoff = np.where(context_rows >= 0, tables.log_backoff[ids.shape[1] - 1][np.maximum(context_rows, 0)], 0.0)
    log_p = backoff + _backoff_log_prob(tables, ids[:, 1:])
    log_p[rows >= 0] = tables.log_prob[ids.shape[1]][rows[rows >= 0]]
    return log_p


def _rows_of(tables: BackoffTables, ids: np.ndarray) -> np.ndarray:
    """The row of each N-gram (a row of ``ids``) in its order's table, -1 where it is not stored."""
    row, found = ids[:, 0].copy(), np.ones(len(ids), dtype=bool)
    for j in range(2, ids.shape[1] + 1):
        keys = tables.tables[j].keys
        key = row * tables.vocab_size + ids[:, j - 1]
        position = np.minimum(np.searchsorted(keys, key), max(len(keys) - 1, 0))
        hit = keys[position] == key if len(keys) else np.zeros(len(key), dtype=bool)
        found &= hit
        row = np.where(hit, position, 0)
    return np.where(found, row, -1)
