"""One call of a learner's function: its arguments, and how to show them in a one-line reason.

Kept free of anything but the standard library: the grader's child process unpickles cases, and it
should start fast.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


def short_repr(value: Any, width: int = 70) -> str:
    """``repr(value)`` cut to ``width`` characters, so that a failure reason stays on one line."""
    text = " ".join(repr(value).split())
    return text if len(text) <= width else text[: width - 3] + "..."


@dataclass(frozen=True)
class Case:
    """The arguments of one call: ``function(*args, **kwargs)``."""

    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def call(self, function: Callable) -> Any:
        # Each call gets its own copy, so a function that changes its input cannot change the next case.
        return function(*copy.deepcopy(self.args), **copy.deepcopy(dict(self.kwargs)))

    def full_call(self, name: str) -> str:
        """``name(arg, ..., key=value)`` with every argument in full (newlines of numpy's layout removed)."""
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{name}({', '.join(parts)})".replace("\n", " ")

    def describe(self, name: str, width: int = 90) -> str:
        parts = [short_repr(a, 50) for a in self.args] + [f"{k}={short_repr(v, 30)}" for k, v in self.kwargs.items()]
        text = f"{name}({', '.join(parts)})"
        return text if len(text) <= width else text[: width - 4] + "...)"
