// Package boardsetup takes a board from its box to a kernelspec over USB
// serial (webrepl-kernel setup): it finds the board's port, does what
// MicroPython's webrepl_setup does (webrepl_cfg.py with the password, boot.py
// starting webrepl) and adds the Wi-Fi connection to boot.py, resets the
// board, waits for it to join the network, checks that WebREPL answers at its
// address and installs the kernelspec for it. Each failure is one line that
// says what to do. It knows the board link (webrepl) and kernelspecs, no
// Jupyter.
package boardsetup
