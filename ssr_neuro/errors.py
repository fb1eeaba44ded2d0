"""User-facing errors.

A :class:`UserError` is a problem with what the user gave us (a path, an option, a file's content).
The CLI prints its message on one line and exits with code 2, without a traceback. Every message names
the problem and how to fix it.
"""


class UserError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


class DataError(UserError):
    """A dataset file is missing, malformed or empty after preprocessing."""


class CheckpointError(UserError):
    """A file is not an ssr-neuro checkpoint, is truncated, or carries code."""
