# __wk_resolve finds the object a dotted name ('machine.Pin.irq') stands for
# in namespace (the REPL's globals) or the builtins, without running a call:
# each attribute step is looked up in the class dictionaries along __bases__
# first (of the object itself when it is a class). It returns
#
#   ('N', dotted, None)   not there, or only a user __getattr__ would answer
#   ('P', attr, None)     a property of an instance: reported, not read
#   ('', value, owner)    found; owner is the class whose dictionary held the
#                         last step (None when it came from elsewhere)
#
# Shared by the inspector and the completer: their definitions start with
# this file and bind the function as a default argument, then delete the
# global name, so the board keeps no extra name.


def __wk_resolve(namespace, dotted):
    parts = dotted.split('.')
    builtins = __import__('builtins')
    if parts[0] in namespace:
        value = namespace[parts[0]]
    elif hasattr(builtins, parts[0]):
        value = getattr(builtins, parts[0])
    else:
        return 'N', dotted, None
    owner = None
    for attr in parts[1:]:
        owner = None
        hooked = False
        classes = [value] if isinstance(value, type) else [type(value)]
        while classes:
            cls = classes.pop(0)
            attrs = getattr(cls, '__dict__', None)
            if isinstance(attrs, dict) and attr in attrs:
                if not isinstance(value, type) and isinstance(attrs[attr], property):
                    return 'P', attr, None
                owner = cls
                break
            if isinstance(attrs, dict) and '__getattr__' in attrs:
                hooked = True
            classes.extend(getattr(cls, '__bases__', ()))
        if hooked and owner is None and not isinstance(value, type) \
                and attr not in (getattr(value, '__dict__', None) or ()):
            return 'N', dotted, None
        try:
            value = getattr(value, attr)
        except Exception:
            return 'N', dotted, None
    return '', value, owner
