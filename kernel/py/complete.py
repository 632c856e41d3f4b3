# __wk_complete prints the names that complete prefix: those of the object
# the dotted name stands for, or, for '', the globals and builtins
# (kernel/complete.go). It resolves the name as the inspector does
# (__wk_resolve: no call, no property getter) and prints nothing when the
# name is not there. Each name goes on a line of its own after token, a
# random per-request prefix, so nothing else printed can pass for a name; at
# most limit names. The kernel's own names (__wk…) are left out. The
# definition is resolve.py + members.py + this file.


def __wk_complete(dotted, prefix, token, limit,
        resolve=__wk_resolve, members=__wk_members,
        echo=__import__('builtins').print):
    namespace = globals()
    names = list(namespace) + dir(__import__('builtins'))
    if dotted:
        found, value, _ = resolve(namespace, dotted)
        if found:
            return
        names = members(value)
    count = 0
    for name in sorted(set(names)):
        if isinstance(name, str) and name.startswith(prefix) and not name.startswith('__wk'):
            echo(token + name)
            count += 1
            if count >= limit:
                break


del __wk_resolve, __wk_members
