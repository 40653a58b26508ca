"""CheckFailed, the one exception every check raises.

It lives in its own module that imports only the standard library, so that code which must run
without NumPy (a derivation checker under Pyodide, say) can raise and catch the same class.
"""


class CheckFailed(AssertionError):
    """A check found a problem. Jupyter shows the message alone, without a traceback."""

    def __init__(self, message, hint=None):
        self.message, self.hint = message, hint
        super().__init__(message + (f"\nHint: {hint}" if hint else ""))

    def _render_traceback_(self):  # IPython calls this instead of printing a traceback
        lines = str(self).splitlines()
        return [f"\x1b[1;31mCheckFailed:\x1b[0m {lines[0]}", *lines[1:]]
