"""Errors the engine raises for things a user can understand and act on.

Every error carries a user-facing message that says what happened and, in ``hint``,
what to do about it; ``str(error)`` is both together, so a worker can store it as the
job's error and the GUI can show it as is. This module imports nothing heavy: the GUI
process imports it at start-up.
"""

from __future__ import annotations


class EngineError(RuntimeError):
    """Base class: ``message`` (what happened) and ``hint`` (what to do), both plain text."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(self.user_message)

    @property
    def user_message(self) -> str:
        """The text to show a user: the message, then the hint when there is one."""
        if self.hint:
            sep = " " if self.message.rstrip().endswith((".", "!", "?", ":")) else ". "
            return f"{self.message.rstrip()}{sep}{self.hint}"
        return self.message

    def __reduce__(self):  # keep the error picklable (e.g. across processes)
        return (self.__class__, (self.message, self.hint))


class SettingsError(EngineError, ValueError):
    """A settings object holds a value out of range (also a ``ValueError``)."""


class ModelLoadError(EngineError):
    """A model or tokenizer could not be found, trusted or loaded."""


class CheckpointError(EngineError):
    """A checkpoint or adapter could not be written, read or verified."""


class PromptTooLongError(EngineError):
    """A prompt plus the tokens to generate does not fit the model's context window.

    ``index`` is the prompt's position in the list given to ``generate``, ``length`` its
    length in tokens, ``limit`` the model's maximum positions, ``max_new_tokens`` the
    number of tokens asked for.
    """

    def __init__(self, index: int, length: int, limit: int, max_new_tokens: int = 0) -> None:
        self.index = index
        self.length = length
        self.limit = limit
        self.max_new_tokens = max_new_tokens
        super().__init__(
            f"Prompt {index} is {length} tokens long; with {max_new_tokens} new tokens it "
            f"needs {length + max_new_tokens} positions, but the model handles at most {limit}.",
            "Shorten the prompt or lower 'max new tokens'.",
        )

    def __reduce__(self):
        return (self.__class__, (self.index, self.length, self.limit, self.max_new_tokens))
