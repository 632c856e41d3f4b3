# HardReset (session.go): reset the board; the link drops.

import machine
machine.reset()
