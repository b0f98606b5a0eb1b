"""Checkpoints: a plain dict of tensors, numbers, strings and lists, written atomically.

A training folder holds::

    last.pt     everything needed to continue exactly (model, optimizer, schedule, step, position in the
                epoch, the carried hidden state, random-number states, the training log)
    best.pt     the same, at the best valid perplexity so far: what ``lmcourse eval`` and ``sample`` load
    log.json    the training log: (step, tokens, seconds, lr, train loss, valid perplexity) per evaluation

Both ``.pt`` files also carry what the model was trained on (the corpus name and its vocabulary), so that a
checkpoint is never applied to other data by mistake. They are read with ``torch.load(weights_only=True)``:
a checkpoint file can hold no code.
"""

from __future__ import annotations

from pathlib import Path

import torch

from lmcourse.errors import UserError
from lmcourse.files import atomic_output

FORMAT = "lmcourse-checkpoint"
VERSION = 1
LAST, BEST, LOG = "last.pt", "best.pt", "log.json"


def save_checkpoint(path: str | Path, contents: dict) -> Path:
    """Write ``contents`` (plus the format tag) to ``path`` atomically: a reader sees the old file or the new."""
    path = Path(path)
    with atomic_output(path) as tmp:
        torch.save({"format": FORMAT, "version": VERSION, **contents}, tmp)
    return path


def checkpoint_file(location: str | Path, which: str = BEST) -> Path:
    """A checkpoint file: ``location`` itself, or ``which`` (best.pt / last.pt) inside a training folder."""
    location = Path(location)
    if location.is_dir():
        candidate = location / which
        if not candidate.is_file():
            raise UserError(f"no {which} in {location}: not a training folder, or training never saved there "
                            f"(train with --checkpoint {location})")
        return candidate
    if not location.exists():
        raise UserError(f"checkpoint {location} not found: give a training folder (--checkpoint DIR) or a .pt file")
    return location


def load_checkpoint(location: str | Path, which: str = BEST) -> dict:
    """Read a checkpoint (a file, or ``which`` in a training folder); a one-line error for anything else."""
    path = checkpoint_file(location, which)
    try:
        contents = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 -- garbage makes the weights-only unpickler raise almost anything
        # (UnpicklingError, EOFError, BadZipFile, but also IndexError, KeyError, UnicodeDecodeError, ...)
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserError(f"{path} is not a readable lmcourse checkpoint (truncated or another kind of file: "
                        f"{first_line[:120]}); train again or point at another file") from None
    if not isinstance(contents, dict) or contents.get("format") != FORMAT:
        raise UserError(f"{path} is not an lmcourse checkpoint (no '{FORMAT}' tag): point at a folder that "
                        "`lmcourse train ... --checkpoint DIR` wrote")
    if contents.get("version") != VERSION:
        raise UserError(f"{path} is a checkpoint of format version {contents.get('version')}, this lmcourse reads "
                        f"version {VERSION}: train again with this version")
    return contents
