# After login (session.go, probeBoard): leave marker in the board's RAM, in
# sys.modules so the user's globals stay clean, unless one is there already,
# and print the one that is there. The host calls this expression with a new
# random marker.

(lambda marker: print(__import__('sys').modules.setdefault('__webrepl_session_marker', marker)))
