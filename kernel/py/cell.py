# __wk_cell runs one notebook cell (kernel/program.go says why and how).
#
# Arguments: the cell's random token (it is in every mark this prints), the
# file name the cell is compiled under, its body, the line index and text of
# its last statement, the mode that statement is compiled in ('single' shows
# its value, 'exec' does not), and whether the frontend accepts input. The
# defaults bind, once, the board's own input, print, sys and kbd_intr, so a
# cell that rebinds those names does not change the helper.
#
# Marks (0x02, a letter, the token, 0x03): B start, R..E a value's repr,
# I..J an input() prompt, S..T text printed to sys.stderr, X a traceback
# follows, Z end. Everything that can fail or be interrupted runs inside the
# outer try, so the end mark is always printed; only SystemExit goes on to
# the raw REPL, after the end mark.
#
# Names it leaves in the globals: only __wk_cell. It binds input (and print,
# unless the user has their own) and __repl_print__ for the cell and removes
# them afterwards.


def __wk_cell(token, file, body, last_line, last, mode, stdin_ok,
        board_input=input, board_print=__import__('builtins').print,
        sys=__import__('sys'),
        kbd_intr=getattr(__import__('micropython'), 'kbd_intr', lambda c: None)):
    mark = lambda kind: '\x02' + kind + token + '\x03'
    namespace = globals()
    failure = input = print = None
    try:
        try:
            board_print(mark('B'), end='')
            stderr = sys.stderr
            value_start, value_end = mark('R'), mark('E')
            prompt_start, prompt_end = mark('I'), mark('J')
            stderr_start, stderr_end = mark('S'), mark('T')
            show = lambda value: None if value is None else board_print(value_start + repr(value) + value_end, end='')

            def input(prompt=''):
                if not stdin_ok:
                    raise OSError('input() needs a frontend that accepts input')
                board_print(prompt_start + str(prompt) + prompt_end, end='')
                return board_input()

            def print(*args, **options):
                if options.get('file') is not stderr:
                    return board_print(*args, **options)
                del options['file']
                board_print(stderr_start, end='')
                try:
                    board_print(*args, **options)
                finally:
                    board_print(stderr_end, end='')

            # Both parts compile before either runs: a syntax error anywhere
            # stops the cell before it has side effects. The last statement
            # is padded with backslash continuations to its own line number
            # ('single' mode takes a leading blank line as the statement).
            code = [compile(body, file, 'exec')]
            if last:
                code.append(compile('\\\n' * last_line + last, file, mode))
            namespace['input'] = input
            if 'print' not in namespace:
                namespace['print'] = print
            for part in code:
                # Again before the last statement: the body may clear globals.
                namespace['__repl_print__'] = show
                exec(part, namespace)
        finally:
            # The first statement of the finally, which the VM enters without
            # checking for a pending interrupt: from here on a Ctrl-C is an
            # ordinary byte. One that came before is raised by the loop below
            # (a backward jump checks) and caught there.
            kbd_intr(-1)
            try:
                spin = 0
                while spin < 1:
                    spin += 1
            except BaseException:
                pass
            namespace.pop('__repl_print__', None)
            if input and namespace.get('input') is input:
                del namespace['input']
            if print and namespace.get('print') is print:
                del namespace['print']
    except BaseException as error:
        failure = error
    if failure is not None and not isinstance(failure, SystemExit):
        board_print(mark('X'), end='')
        sys.print_exception(failure)
    board_print(mark('Z'), end='')
    if failure is not None:
        raise failure
