"""The ``lmcourse`` command line: one entry point, one sub-command module per family.

Each module in :data:`COMMAND_MODULES` (``lmcourse/cli/<name>.py``) has ``register(subparsers)``, which
adds its sub-commands with ``set_defaults(func=run)``; ``run(args)`` returns the exit code. A
:class:`~lmcourse.errors.UserError` anywhere becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys
from collections.abc import Sequence

from lmcourse import __version__
from lmcourse.errors import UserError
from lmcourse.hugepages import without_numpy_hugepage_advice

COMMAND_MODULES = ["baselines", "compare", "data", "finetune", "grade", "ngram", "pairs", "sample", "train"]


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit code 2, as everywhere else (the usage is for --help)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"lmcourse: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="lmcourse",
        description="Language models from counted N-grams to Transformers, compared on perplexity.",
    )
    parser.add_argument("--version", action="version", version=f"lmcourse {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=ArgumentParser)
    for module_name in COMMAND_MODULES:
        importlib.import_module(f"lmcourse.cli.{module_name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    without_numpy_hugepage_advice()  # first touches of large arrays were 10-25x slower with it (see the module)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help, --version, a usage error: already printed
        return int(done.code or 0)
    if not hasattr(args, "func"):
        parser.print_help(sys.stderr)
        return 2
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a full disk or file-size limit on stdout shows here, not at exit
        return code
    except UserError as error:
        print(f"lmcourse: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `lmcourse data export brown --split train | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as error:
        if error.errno not in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            raise
        if error.filename == "<stdout>" or error.filename is None:
            what = "writing to stdout: what was written there is incomplete"
        else:
            what = f"writing {error.filename}: no partial file was kept"
        print(f"lmcourse: error: {error.strerror} {what}; free some space (or raise the file-size limit) and run "
              "again", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lmcourse: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
