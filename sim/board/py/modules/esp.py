# The board's esp module, as boot.py files copied from an ESP32 use it.

LOG_NONE = 0
LOG_ERROR = 1
LOG_WARNING = 2
LOG_INFO = 3
LOG_DEBUG = 4
LOG_VERBOSE = 5


def osdebug(uart_no, level=LOG_ERROR):
    pass


def flash_size():
    return 4194304


def flash_user_start():
    return 2097152


def gpio_matrix_in(*args):
    pass


def gpio_matrix_out(*args):
    pass
