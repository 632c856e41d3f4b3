# __wk_inspect tells the kernel what a dotted name stands for on the board,
# for Shift-Tab and the help cells obj? and obj?? (kernel/inspect.go).
#
# Arguments: the dotted name; a random token that starts every line printed
# (nothing a user __repr__ prints can pass for an answer); the bounds of the
# repr, the docstring, the member list, each source line and the number of
# source lines. The definition is resolve.py + members.py + this file.
#
# It calls no function of the user's except __repr__, as IPython does: the
# name is resolved by __wk_resolve (no call, no property getter) and the
# members come from __wk_members. Each line is token + key + repr(str(value)):
#
#   N not found   P a property (not evaluated)   T type name   R repr (cut)
#   r repr length  D docstring  M member  m member count  F file of definition
#   G defined in the REPL's globals  n __name__  K kind (class, function, module)
#   C the class of an instance, defined in the REPL's globals
#   O the class, defined in the REPL's globals, whose dictionary holds the last step
#   L len() of a built-in container  S a source line from the board's file


def __wk_inspect(dotted, token, repr_limit, doc_limit, members_limit, line_limit, source_lines,
        resolve=__wk_resolve, members=__wk_members, show=repr,
        echo=__import__('builtins').print):
    namespace = globals()

    def tell(key, value):
        echo(token + key + show(str(value)))

    found, value, owner = resolve(namespace, dotted)
    if found:
        return tell(found, value)
    tell('T', type(value).__name__)
    try:
        text = show(value)
    except Exception as error:
        text = '<repr failed: %s>' % type(error).__name__
    tell('r', len(text))
    tell('R', text[:repr_limit])
    if isinstance(value, type):
        kind = 'class'
    elif type(value).__name__ == 'module':
        kind = 'module'
    elif type(value).__name__ in ('function', 'closure', 'bound_method', 'generator'):
        kind = 'function'
    else:
        kind = ''
    tell('K', kind)
    if kind:
        doc = getattr(value, '__doc__', None)
    else:
        doc = (getattr(type(value), '__dict__', None) or {}).get('__doc__')
    if not kind and getattr(type(value), '__module__', None) == '__main__':
        tell('C', type(value).__name__)
    if owner is not None and getattr(owner, '__module__', None) == '__main__':
        tell('O', owner.__name__)
    if isinstance(doc, str):
        tell('D', doc[:doc_limit])
    name = getattr(value, '__name__', None) if kind else None
    if isinstance(name, str):
        tell('n', name)
    if isinstance(value, (str, bytes, bytearray, list, tuple, dict, set)):
        tell('L', len(value))
    names = sorted(x for x in members(value) if isinstance(x, str) and not x.startswith('_'))
    tell('m', len(names))
    for x in names[:members_limit]:
        tell('M', x)
    file = None
    # The globals of the module that defined value, for its __file__.
    scope = getattr(value, '__globals__', None) if kind == 'function' else None
    if kind == 'class':
        module = __import__('sys').modules.get(getattr(value, '__module__', ''), None)
        scope = getattr(module, '__dict__', None)
        if getattr(value, '__module__', '') == '__main__':
            scope = namespace
    if kind == 'module':
        file = getattr(value, '__file__', None)
    elif isinstance(scope, dict):
        file = scope.get('__file__')
        if scope is namespace:
            tell('G', 1)
    if not isinstance(file, str):
        return
    tell('F', file)
    if kind not in ('class', 'function') or not isinstance(name, str) or not file.endswith('.py'):
        return
    # The source from the board's file: from the line that defines name on,
    # at most source_lines lines.
    try:
        source = open(file)
        try:
            count = -1
            for line in source:
                if count < 0:
                    head = line.lstrip()
                    if head.startswith('async '):
                        head = head[6:].lstrip()
                    if head.startswith(('def ', 'class ')):
                        rest = head.split(None, 1)[1]
                        if rest.startswith(name) and rest[len(name):len(name) + 1] in ('(', ':', ' '):
                            count = 0
                if count >= 0:
                    tell('S', line.rstrip('\r\n')[:line_limit])
                    count += 1
                    if count >= source_lines:
                        break
        finally:
            source.close()
    except Exception:
        pass


del __wk_resolve, __wk_members
