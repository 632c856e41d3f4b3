# The board console's Python side: input() reading the console (through _board.readline),
# the builtins stand-in that makes builtins.input that input(), and the syntax check that
# lets raw-paste end early. board.py installs them; consolein.mjs owns the console itself.

import sys
import io
import builtins
import _board


def syntax_error_line(src):
    # Line of the SyntaxError that compiling src raises, 0 if none (raw-paste early end).
    try:
        compile(src, '<stdin>', 'exec')
        return 0
    except SyntaxError as e:
        buf = io.StringIO()
        sys.print_exception(e, buf)
        line = 0
        for part in buf.getvalue().split('line ')[1:]:
            digits = ''
            for ch in part:
                if '0' <= ch <= '9':
                    digits += ch
                else:
                    break
            if digits:
                line = int(digits)
        return line
    except Exception:
        return 0


def input(prompt=None):
    # The board's input(): _board.readline echoes what is typed and returns the line, None
    # for Ctrl-C, or -1 for Ctrl-D on an empty line.
    if prompt is not None:
        print(prompt, end='')
    line = _board.readline()
    if line is None:
        raise KeyboardInterrupt
    if line == -1:
        raise EOFError
    return line


class Builtins:
    # Stands in for the builtins module in sys.modules. Assigning builtins.input only
    # changes what the name input finds: attribute reads of the real module look in its
    # fixed table first, so builtins.input stayed the port's own input(), which spins in C
    # without ever reading the console. Reads of this stand-in give the board's input();
    # everything else, and every assignment, goes to the real module, so
    # builtins.print = f still changes print for all code.
    input = staticmethod(input)

    def __getattr__(self, name):
        return getattr(builtins, name)

    def __setattr__(self, name, value):
        setattr(builtins, name, value)

    def __delattr__(self, name):
        delattr(builtins, name)

    def __dir__(self):
        return dir(builtins)

    def __repr__(self):
        return "<module 'builtins'>"
