"""The one exception type for errors a user can cause.

Its message is written for the user: what was wrong, where, and what to do. The CLI prints it as
one line and exits 2; the app shows the same text as a notification.
"""


class ReviewtuiError(Exception):
    """An error the user can fix. ``str(err)`` is the complete, user-facing message."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class Interrupted(KeyboardInterrupt):
    """A Ctrl-C after a command had kept part of its work: ``str(err)`` says what was kept and
    what to run next, where the CLI's plain word for a Ctrl-C says nothing was changed."""
