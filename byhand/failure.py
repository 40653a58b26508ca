"""CheckFailed, the one exception every check raises, and `folded`, the width of what they print.

It lives in its own module that imports only the standard library, so that code which must run
without NumPy (a derivation checker under Pyodide, say) can raise and catch the same class.
"""

import textwrap

# The book's code column shows 88 characters: a printed verdict longer than that is folded at
# spaces, continuation lines indented, so that no reader has to scroll sideways to read it.
WIDTH = 88


def folded(text, width=WIDTH):
    """`text`, each line folded at spaces to at most `width` characters (a word longer than
    that stays whole), continuation lines indented by two spaces."""
    return "\n".join(
        textwrap.fill(line, width, subsequent_indent="  ", break_long_words=False,
                      break_on_hyphens=False) if len(line) > width else line
        for line in text.splitlines())


class CheckFailed(AssertionError):
    """A check found a problem. Jupyter shows the message alone, without a traceback."""

    def __init__(self, message, hint=None):
        self.message, self.hint = message, hint
        super().__init__(message + (f"\nHint: {hint}" if hint else ""))

    def _render_traceback_(self):  # IPython calls this instead of printing a traceback
        lines = str(self).splitlines()
        return [f"\x1b[1;31mCheckFailed:\x1b[0m {lines[0]}", *lines[1:]]
