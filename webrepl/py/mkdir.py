# File operation (files.go): create one folder.


def _webrepl_op(path):
    __import__('os').mkdir(path)
