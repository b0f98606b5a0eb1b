"""Errors a user can fix.

Anything raised as :class:`UserError` is shown by the CLI as one line (``lmcourse: error: ...``) with exit
code 2, never as a traceback. The message names the problem and the fix.
"""


class UserError(Exception):
    """A problem with the user's input or set-up, with a message that says how to fix it."""
