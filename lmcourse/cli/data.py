"""``lmcourse data list | info | fetch | export | pairs``: the corpora a learner works with."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from lmcourse.cli.output import emit, log, write_stdout
from lmcourse.data import SPLITS, UNK_ID, Corpus, EncodedSplit, get_spec, list_corpora, load_corpus
from lmcourse.data.registry import REGISTRY
from lmcourse.errors import UserError
from lmcourse.files import atomic_output, check_output_path

# In exported character corpora a space is written as this visible character, so that "tokens separated
# by spaces" stays true (the convention of SentencePiece).
SPACE_MARK = "\u2581"


def register(subparsers) -> None:
    data = subparsers.add_parser("data", help="list, inspect, fetch and export corpora")
    commands = data.add_subparsers(title="data commands", metavar="ACTION", parser_class=type(data))
    data.set_defaults(func=lambda args: (data.print_help(sys.stderr), 2)[1])

    listing = commands.add_parser("list", help="the registered corpora and whether each is present")
    listing.add_argument("--json", action="store_true", help="print one JSON object")
    listing.set_defaults(func=run_list)

    info = commands.add_parser("info", help="sizes per split, vocabulary, <unk> rate (and the floor)")
    info.add_argument("corpus", help="a corpus name (see `lmcourse data list`) or a folder with train.txt")
    info.add_argument("--min-count", type=int, default=1, help="folder corpora: keep train words seen "
                      "at least this often (default 1)")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.set_defaults(func=run_info)

    fetchable = [name for name, spec in REGISTRY.items() if spec.remote_files or spec.nltk_package]
    fetch = commands.add_parser(
        "fetch", help="download a corpus (SHA-256 checked) into the data home",
        description="Download a corpus into the data home: $LMCOURSE_HOME if set, else this checkout's data/, "
                    "else ~/.lmcourse/data (NLTK corpora go to its nltk_data/ folder, the others to a folder "
                    "named after the corpus). Each file's SHA-256 is checked; a mismatch keeps no file.")
    fetch.add_argument("corpus", help=f"one of {', '.join(fetchable)}")
    fetch.set_defaults(func=run_fetch)

    export = commands.add_parser("export", help="write a split as the models see it (one sentence a line)")
    export.add_argument("corpus", help="a corpus name or a folder with train.txt")
    export.add_argument("--split", required=True, choices=SPLITS)
    export.add_argument("--out", help="output file (default: stdout)")
    export.add_argument("--min-count", type=int, default=1, help="folder corpora: vocabulary threshold")
    export.add_argument("--unk-as", metavar="WORD", help="write <unk> as this plain word (KenLM's lmplz refuses "
                        "'<unk>' in its input; e.g. --unk-as UNK)")
    export.set_defaults(func=run_export)

    from lmcourse.synthetic.pairs import DEFAULT_PAIRS, DEFAULT_SEED

    pairs = commands.add_parser(
        "pairs", help="write subject-verb agreement minimal pairs sampled from a generated corpus's grammar",
        description="Minimal pairs from the grammar of a generated corpus: a grammatical sentence and the same "
                    "sentence with the main verb in the other number, one pair a line, good<TAB>bad<TAB>"
                    "attractors<TAB>distance. Balanced over subject-verb distances unless --plain. Score them "
                    "with `lmcourse pairs --pairs FILE ...`.")
    pairs.add_argument("corpus", help=f"one of {', '.join(generated_corpora())}")
    pairs.add_argument("--out", help="output file (default: stdout)")
    pairs.add_argument("--n", type=int, default=DEFAULT_PAIRS, help=f"number of pairs (default {DEFAULT_PAIRS})")
    pairs.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED}; "
                       "the corpus's own text is drawn from other streams)")
    pairs.add_argument("--plain", action="store_true", help="keep the distances as sampled (mostly short) "
                       "instead of balancing them over the distance buckets")
    pairs.set_defaults(func=run_pairs)


def run_list(args: argparse.Namespace) -> int:
    rows = list_corpora()
    result = {"corpora": [{"name": r.name, "present": r.present, "description": r.description,
                           "source": r.source} for r in rows]}
    width = max(len(r.name) for r in rows)
    lines = [f"{'corpus':<{width}}  {'status':<11}  description"]
    for r in rows:
        status = "present" if r.present else "needs fetch"
        lines.append(f"{r.name:<{width}}  {status:<11}  {r.description}")
    lines.append("")
    lines.append("Fetch a missing corpus with `lmcourse data fetch NAME`; any folder holding "
                 "train.txt/valid.txt/test.txt is a corpus too.")
    emit(result, args.json, lines)
    return 0


def corpus_info(corpus: Corpus) -> dict:
    """The figures of ``lmcourse data info``; for a generated corpus also its entropy floor."""
    info = corpus.info()
    spec = REGISTRY.get(corpus.name)
    if spec is not None and spec.grammar:
        from lmcourse import synthetic

        info.update(synthetic.floor_stats(grammar=spec.grammar))
    return info


def run_info(args: argparse.Namespace) -> int:
    corpus = load_corpus(args.corpus, min_count=args.min_count)
    info = corpus_info(corpus)
    spec = REGISTRY.get(corpus.name)
    lines = [f"corpus {corpus.name} ({corpus.level} level)"]
    if spec is not None:
        lines += [f"  source: {spec.source}", f"  tokens: {spec.tokenization}"]
    lines.append(f"  vocabulary: {info['vocab_size']:,} types (words + <unk>; </s> is predicted too)")
    lines.append(f"  {'split':<6} {'sentences':>10} {'words':>11} {'predicted':>11} {'<unk> rate':>10}")
    for split_name in SPLITS:
        row = info[split_name]
        if row is None:
            lines.append(f"  {split_name:<6} missing: {corpus.missing.get(split_name, 'not available')}")
        else:
            lines.append(f"  {split_name:<6} {row['sentences']:>10,} {row['words']:>11,} "
                         f"{row['predicted_tokens']:>11,} {row['unk_rate']:>10.2%}")
    if "floor_perplexity" in info:
        lines.append(f"  entropy floor: {info['entropy_nats_per_token']:.4f} nats/token = "
                     f"{info['entropy_bits_per_token']:.4f} bits/token; "
                     f"floor perplexity {info['floor_perplexity']:.3f}")
        lines.append(f"  grammar: {info['grammar']}")
        for key, value in (info.get("grammar_stats") or {}).items():
            if isinstance(value, float) and math.isfinite(value):
                shown = f"{value:.4g}"
            elif isinstance(value, (list, tuple)):
                shown = ", ".join(map(str, value))
            else:
                shown = value
            lines.append(f"    {key}: {shown}")
    emit(info, args.json, lines)
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    from lmcourse.data.fetch import fetch

    spec = get_spec(args.corpus)
    log(f"fetching {spec.name} from {spec.source} ...")
    for path in fetch(spec.name):
        print(f"ready: {path}")
    return 0


def split_lines(encoded: EncodedSplit, tokens: list[str], level: str) -> list[str]:
    """Each sentence as one line of space-separated tokens (``<unk>`` substituted, ``</s>`` left out)."""
    if level == "char":
        tokens = [SPACE_MARK if t == " " else t for t in tokens]
    vocabulary = np.array(tokens, dtype=object)
    words = vocabulary[encoded.tokens]
    return [" ".join(words[start:end - 1])
            for start, end in zip(encoded.sentence_starts[:-1], encoded.sentence_starts[1:])]


def run_export(args: argparse.Namespace) -> int:
    if args.out is not None:
        check_output_path(args.out, "--out")  # before any work, as for --arpa
    corpus = load_corpus(args.corpus, min_count=args.min_count)
    encoded = corpus.split(args.split)
    tokens = list(corpus.vocab.id_to_token)
    if args.unk_as is not None:
        if not args.unk_as or args.unk_as.split() != [args.unk_as]:
            raise UserError(f"--unk-as needs one word without spaces, got {args.unk_as!r}")
        if args.unk_as in corpus.vocab:
            raise UserError(f"--unk-as {args.unk_as!r} is already in the vocabulary of {corpus.name}: choose "
                            "another word")
        tokens[UNK_ID] = args.unk_as
    text = "\n".join(split_lines(encoded, tokens, corpus.level)) + "\n"
    if args.out is None:
        write_stdout(text)
    else:
        out = Path(args.out)
        with atomic_output(out) as tmp:
            tmp.write_text(text, encoding="utf-8")
        log(f"wrote {encoded.num_sentences:,} sentences ({encoded.num_words:,} words) to {out}")
    return 0


def generated_corpora() -> list[str]:
    """The registered corpora sampled from a grammar (the only ones minimal pairs can be made for)."""
    return [name for name, spec in REGISTRY.items() if spec.grammar]


def run_pairs(args: argparse.Namespace) -> int:
    """Sample minimal pairs from the grammar of a generated corpus and write them as TSV."""
    from lmcourse.synthetic.pairs import pairs_tsv_lines, sample_pairs, write_pairs_tsv

    spec = REGISTRY.get(args.corpus)
    if spec is None or not spec.grammar:
        raise UserError(f"minimal pairs come from a grammar, and corpus {args.corpus!r} has none: use one of "
                        f"{', '.join(generated_corpora())}")
    if args.n < 1:
        raise UserError(f"--n must be at least 1 (got {args.n})")
    if args.seed < 0:
        raise UserError(f"--seed must be >= 0 (got {args.seed})")
    if args.out is not None:
        check_output_path(args.out, "--out")
    pairs = sample_pairs(spec.grammar, args.n, seed=args.seed, balanced=not args.plain)
    if args.out is None:
        write_stdout("".join(line + "\n" for line in pairs_tsv_lines(pairs)))
    else:
        write_pairs_tsv(pairs, args.out)
        log(f"wrote {len(pairs):,} minimal pairs from grammar {spec.grammar} (seed {args.seed}) to {args.out}")
    return 0
