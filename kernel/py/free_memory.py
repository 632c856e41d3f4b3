# %board: the board's free heap. Binds no name in the user's globals.

print(__import__('gc').mem_free())
