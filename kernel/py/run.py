# %run FILE: the expression the kernel calls with the file's path. It runs
# the board file in the REPL's globals, like a cell, compiled under the
# file's own name so its tracebacks name the file and its lines; the file is
# closed before its code runs. It binds no name.

(lambda path: exec(compile((lambda f: (f.read(), f.close())[0])(open(path)), path, 'exec'), globals()))
