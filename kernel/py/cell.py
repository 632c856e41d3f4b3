# __wk_cell runs one notebook cell (kernel/program.go says why and how).
#
# Arguments: the cell's random token (it is in every mark this prints), the
# file name the cell is compiled under, its body, the line index and text of
# its last statement, the mode that statement is compiled in ('single' shows
# its value, 'exec' does not), whether the frontend accepts input, and
# whether the cell needs the module 'jupyter' (it mentions it: when the
# board lacks it, the helper raises a NameError naming __wk_jupyter before
# anything runs, and the kernel defines it and calls again). The
# defaults bind, once, the board's own input (readline), print (echo), sys
# and kbd_intr, so a cell that rebinds those names does not change the helper.
# The names here are short where they cost: the board keeps every name it
# compiles (an interned string) for as long as its RAM lasts.
#
# Marks (0x02, a letter, the token, 0x03): B start, R..E a value's repr,
# I..J an input() prompt, S..T text printed to sys.stderr, M..N a message
# from board code (py/jupyter.py writes them), X a traceback follows, Z end. Everything that can fail or be interrupted runs inside the
# outer try, so the end mark is always printed; an exception other than
# SystemExit is printed framed (X, traceback) before it, and every exception
# is raised again after it.
#
# The module 'jupyter' (py/jupyter.py), if the board has it, gets the token
# in its _t for the cell's time, so that what it sends goes to this cell.
#
# Names it leaves in the globals: only __wk_cell, which py/helper_name.py
# then renames. It binds input (and print, unless the user has their own)
# and __repl_print__ for the cell and removes them afterwards.


def __wk_cell(token, file, body, line, last, mode, stdin, need,
        readline=input, echo=__import__('builtins').print,
        sys=__import__('sys'),
        kbd_intr=getattr(__import__('micropython'), 'kbd_intr', lambda c: None)):
    if need and 'jupyter' not in sys.modules:
        raise NameError('__wk_jupyter')
    mark = lambda kind: '\x02' + kind + token + '\x03'
    namespace = globals()
    exc = input = print = jm = None
    try:
        try:
            echo(mark('B'), end='')
            jm = sys.modules.get('jupyter')
            if jm:
                jm._t = token
            stderr = sys.stderr
            show = lambda value: None if value is None else echo(mark('R') + repr(value) + mark('E'), end='')

            def input(prompt=''):
                if not stdin:
                    raise OSError('input() needs a frontend that accepts input')
                echo(mark('I') + str(prompt) + mark('J'), end='')
                return readline()

            def print(*args, **kw):
                if kw.get('file') is not stderr:
                    return echo(*args, **kw)
                del kw['file']
                echo(mark('S'), end='')
                try:
                    echo(*args, **kw)
                finally:
                    echo(mark('T'), end='')

            # Both parts compile before either runs: a syntax error anywhere
            # stops the cell before it has side effects. The last statement
            # is padded with backslash continuations to its own line number
            # ('single' mode takes a leading blank line as the statement).
            parts = [compile(body, file, 'exec')]
            if last:
                parts.append(compile('\\\n' * line + last, file, mode))
            namespace['input'] = input
            if 'print' not in namespace:
                namespace['print'] = print
            for code in parts:
                # Again before the last statement: the body may clear globals.
                namespace['__repl_print__'] = show
                exec(code, namespace)
        finally:
            # The first statement of the finally, which the VM enters without
            # checking for a pending interrupt: from here on a Ctrl-C is an
            # ordinary byte. One that came before is raised by the loop below
            # (a backward jump checks) and caught there.
            kbd_intr(-1)
            try:
                count = 0
                while count < 1:
                    count += 1
            except BaseException:
                pass
            if jm:
                jm._t = None
            namespace.pop('__repl_print__', None)
            if input and namespace.get('input') is input:
                del namespace['input']
            if print and namespace.get('print') is print:
                del namespace['print']
    except BaseException as error:
        exc = error
    if exc is not None and not isinstance(exc, SystemExit):
        echo(mark('X'), end='')
        sys.print_exception(exc)
    echo(mark('Z'), end='')
    if exc is not None:
        raise exc
