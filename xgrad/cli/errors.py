"""The command line's errors: :class:`InputError` (exit status 2) and one-line messages.

Every error the command reports is one line on stderr, ``xgrad: error: ...``; these helpers
turn an exception into that line.
"""

from __future__ import annotations

__all__ = ["InputError", "message", "one_line"]


class InputError(ValueError):
    """A usage or input problem found before computing (the command line exits with 2)."""


def one_line(text: str) -> str:
    """``text`` with its lines joined by single spaces.

    Examples
    --------
    >>> one_line("could not read\\n  the file ")
    'could not read the file'
    """
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def message(err: BaseException) -> str:
    """The one-line message of ``err``; its type's name when it has none.

    Examples
    --------
    >>> message(KeyError("x")), message(RuntimeError())
    ('x', 'RuntimeError')
    """
    # str(KeyError('x')) is "'x'" with quotes; its argument is the message.
    text = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
    return one_line(text) or type(err).__name__
