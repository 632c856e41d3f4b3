# The board's webrepl module. WebREPL itself is the Go side's job; boot.py files copied
# from a board call webrepl.start().

def start(port=8266, password=None, accept_handler=None):
    pass


def stop():
    pass


def start_foreground(port=8266, password=None):
    pass
