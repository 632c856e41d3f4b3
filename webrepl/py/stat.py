# File operation (files.go): print the mode and size of path.
# Like every file operation, it defines _webrepl_op, which the host calls
# once and then deletes, so the user's globals stay as they were.


def _webrepl_op(path):
    info = __import__('os').stat(path)
    print(info[0], info[6])
