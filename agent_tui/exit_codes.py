"""Process exit codes, shared by the command line, the loop and the app."""

EXIT_COMPLETE = 0
EXIT_BAD_INPUT = 2
EXIT_STOPPED_SHORT = 3
EXIT_INTERRUPTED = 130


class InputError(Exception):
    """Bad input or configuration: the command line reports it as one line, exit 2."""
