"""The one error type of `sdc`: a sentence naming the column and the problem."""


class SdcError(ValueError):
    """Bad input to an sdc function: says which column (or argument) and what is wrong."""
