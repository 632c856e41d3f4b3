# After login (session.go, probeBoard): os.uname()'s sysname, version and
# machine, one a line, or '?' for each on a board without it. Binds no name.

try:
    print('\n'.join(str(__import__('os').uname()[i]) for i in (0, 3, 4)))
except:
    print('?\n?\n?')
