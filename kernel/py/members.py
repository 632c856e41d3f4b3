# __wk_members lists the attribute names of value. MicroPython's dir() tries
# every attribute it might have, which runs a property's getter, so where a
# class along value's __bases__ has a property or __getattr__ the names come
# from the instance and class dictionaries instead. Shared by the inspector
# and the completer, as __wk_resolve is (see resolve.py).


def __wk_members(value):
    classes = [value] if isinstance(value, type) else [type(value)]
    names = set() if isinstance(value, type) else set(getattr(value, '__dict__', None) or ())
    unsafe = False
    while classes:
        cls = classes.pop(0)
        attrs = getattr(cls, '__dict__', None)
        if isinstance(attrs, dict):
            names.update(attrs)
            unsafe = unsafe or '__getattr__' in attrs or any(isinstance(x, property) for x in attrs.values())
        classes.extend(getattr(cls, '__bases__', ()))
    if not unsafe:
        try:
            names = dir(value)
        except Exception:
            pass
    return names
