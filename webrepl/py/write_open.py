# File transfer over the raw REPL (files_repl.go), for a link without
# WebREPL's file protocol (a serial port): open path for writing and leave
# _webrepl_w in the globals. Each call writes one chunk given in base64;
# the call with '' closes the file and deletes _webrepl_w.


def _webrepl_op(path):
    f = open(path, 'wb')
    a = __import__('binascii').a2b_base64

    def w(data):
        if data:
            f.write(a(data))
        else:
            f.close()
            del globals()['_webrepl_w']
    globals()['_webrepl_w'] = w
