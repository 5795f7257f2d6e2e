"""The three kinds of failure the app tells apart, and how each reaches the user.

UserError: bad input; its message is one Chinese sentence shown as is, nothing was changed (CLI exit 2).
EnvironmentProblem: the machine is in the way (disk, permissions, lock, missing library) (CLI exit 1).
Anything else is a bug: logged with its traceback, shown as a short apology.
"""


class UserError(Exception):
    """Bad input. The message says what is wrong and what to do; nothing was changed."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class EnvironmentProblem(Exception):
    """The environment prevents the operation (disk, permissions, lock, missing library, damaged file)."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
