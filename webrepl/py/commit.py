# File operation (atomic.go): put staged files in place. The arguments are
# (temporary, final, backup) names, three per file. Every temporary must be
# there before anything moves. For each file: an old final is renamed to its
# backup, the temporary to the final name, then the backup is removed, so at
# every moment either the old or the new file is complete on the flash (on
# FAT a rename onto an existing name removes it first; littlefs replaces
# it). recover.py finishes or undoes a commit that was cut off.


def _webrepl_op(*names):
    os = __import__('os')
    for i in range(0, len(names), 3):
        os.stat(names[i])
    for i in range(0, len(names), 3):
        tmp, final, backup = names[i], names[i + 1], names[i + 2]
        try:
            old = not os.stat(final)[0] & 0x4000
        except OSError:
            old = False
        if old:
            os.rename(final, backup)
        os.rename(tmp, final)
        if old:
            os.remove(backup)
