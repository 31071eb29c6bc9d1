"""Errors a user can cause. The CLI prints each as one line and exits with status 2."""


class UserError(Exception):
    """Bad input from the user: the message is one clear line that says what to do."""

    exit_code = 2

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else self.__class__.__name__


class UnknownNameError(UserError, KeyError):
    """An unknown model, dataset or recipe name (the message suggests the nearest ones)."""


class DataNotFoundError(UserError):
    """The dataset is not on disk; the message says where we looked and how to get it."""


class DataError(UserError):
    """The data is there but unusable: empty folder, a single class, a malformed file."""


class CheckpointError(UserError):
    """A checkpoint that cannot be loaded: unsafe, malformed, or for another model."""


class ConfigError(UserError):
    """Invalid hyper-parameters or options."""
