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


class GraphError(UserError):
    """A graph file is not an ssr-neuro graph, is truncated, or was written by a newer version."""


class ChipError(UserError):
    """A chip description is unknown or breaks a rule of the chip schema (the message names the key)."""


class MappingError(UserError):
    """The graph does not fit the chip: the message names the constraint, the piece, the need and the limit."""
