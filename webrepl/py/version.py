# Connection probe for a serial link (serial.go), which has no WebREPL
# GET_VER: the firmware's release, three numbers.
print('%d %d %d' % __import__('sys').implementation.version[:3])
