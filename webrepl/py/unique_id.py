# After login (session.go, probeBoard): machine.unique_id() in hex, or '?'
# on a board without it. Binds no name.

try:
    print(''.join('%02x' % b for b in __import__('machine').unique_id()))
except:
    print('?')
