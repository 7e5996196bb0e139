"""The one exception of batch scoring: bad input or a job state the user must resolve."""


class BatchError(ValueError):
    """Bad input (file, format, column) or output state; the CLI turns it into exit code 2."""
