# Setup (boardsetup/configure.go): what MicroPython's webrepl_setup does (extmod/webrepl/
# webrepl_setup.py: webrepl_cfg.py holding PASS, and boot.py importing and starting
# webrepl), plus the Wi-Fi connection in boot.py. The whole change runs on the board once
# the program has arrived, so a cable pulled while it is sent changes nothing; boot.py is
# kept as boot.py.bak, and each file is written to a temporary name and renamed, so a
# board that loses power leaves the old file or the new, never half of one. Prints the
# lines of boot.py it wrote.


def _webrepl_op(pw, ssid, key):
    os = __import__('os')
    begin = '# webrepl-kernel setup {'
    end = '# webrepl-kernel setup }'

    def put(name, text):
        tmp = name + '.wk-tmp'
        with open(tmp, 'w') as f:
            f.write(text)
        try:
            os.rename(tmp, name)
        except OSError:
            # FatFs: rename does not replace (webrepl_setup.py's note).
            os.remove(name)
            os.rename(tmp, name)

    try:
        with open('boot.py') as f:
            old = f.read()
    except OSError:
        old = None
    lines = []
    found = False
    ours = False
    for l in (old or '').split('\n'):
        if l.strip() == begin:
            ours = True
        elif l.strip() == end:
            ours = False
        elif not ours:
            if 'import webrepl' in l or 'webrepl.start()' in l:
                found = True
                if l.startswith('#'):
                    l = l[1:]
            lines.append(l)
    while lines and lines[-1] == '':
        lines.pop()
    block = [begin, 'import network', 'network.WLAN(network.STA_IF).active(True)']
    block.append('network.WLAN(network.STA_IF).connect(%r, %r)' % (ssid, key))
    if not found:
        block += ['import webrepl', 'webrepl.start()']
    block.append(end)
    new = '\n'.join(lines + block) + '\n'
    if old is not None:
        put('boot.py.bak', old)
    put('webrepl_cfg.py', 'PASS = %r\n' % pw)
    put('boot.py', new)
    print(new, end='')
