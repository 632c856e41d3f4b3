# The board-side module 'jupyter': rich output from board code (display.go
# and docs/design.md, "Displays, plots and board messages"). Defined before
# the first cell that mentions 'jupyter' (once per connection, again after a
# reset), as sys.modules['jupyter'] (the board cannot make module objects,
# so it is a class; its functions are plain functions). Board code writes:
#
#   from jupyter import display, HTML, Markdown, SVG, Image, JSON, clear_output, plot
#
# Every output goes to the kernel as a message frame that carries the
# running cell's token, which __wk_cell puts in jupyter._t for the cell's
# time (None between cells: then nothing is sent and the calls return
# None). The frame: mark M, the message kind, a space, a JSON payload; if
# there is data, a line end and the data in base64 lines of 1 KiB (768 bytes
# each, written one at a time: the board never holds the data encoded
# whole); mark N. Data over jupyter.LIMIT bytes is not sent: one line on
# stderr says so, and the cell goes on.
#
# send(kind, payload, data=None, path=None) is the channel itself, for other
# kinds of message (the kernel names a kind it does not know in one line).


def __wk_jupyter(sys=__import__('sys'), os=__import__('os'), json=__import__('json'),
        b64=__import__('binascii').b2a_base64, echo=__import__('builtins').print):

    class jupyter:
        _t = None
        _n = 0
        LIMIT = 1048576

    def mark(kind):
        return '\x02' + kind + jupyter._t + '\x03'

    def send(kind, payload, data=None, path=None):
        if jupyter._t is None:
            return False
        n = -1
        if path is not None:
            n = os.stat(path)[6]
        elif data is not None:
            data = memoryview(data)
            n = len(data)
        if n > jupyter.LIMIT:
            echo(mark('S') + '%s refused: %d bytes is over the limit of %d bytes\n' % (kind, n, jupyter.LIMIT) + mark('T'), end='')
            return False
        echo(mark('M') + kind + ' ' + json.dumps(payload), end='')
        if n >= 0:
            echo('\n', end='')
        if path is not None:
            buf = bytearray(768)
            view = memoryview(buf)
            with open(path, 'rb') as f:
                while True:
                    got = f.readinto(buf)
                    if not got:
                        break
                    echo(b64(view[:got]).decode(), end='')
        elif data is not None:
            for i in range(0, n, 768):
                echo(b64(data[i:i + 768]).decode(), end='')
        echo(mark('N'), end='')
        return True

    class Rich:
        mime = 'text/plain'

        def __init__(self, data=None, filename=None, **meta):
            self.data = data
            self.filename = filename
            self.meta = meta

    class HTML(Rich):
        mime = 'text/html'

    class Markdown(Rich):
        mime = 'text/markdown'

    class SVG(Rich):
        mime = 'image/svg+xml'

    # PNG or JPEG bytes (or a file's path): the kernel tells which from
    # the bytes; width and height go to the frontend as metadata.
    class Image(Rich):
        mime = 'image'

    class JSON(Rich):
        mime = 'application/json'

    def bundle(obj):
        if isinstance(obj, Rich):
            data = obj.data
            if isinstance(obj, JSON):
                data = json.dumps(data)
            return obj.mime, data, obj.filename, obj.meta
        for name, mime in (('_repr_html_', 'text/html'), ('_repr_svg_', 'image/svg+xml'),
                ('_repr_markdown_', 'text/markdown'), ('_repr_png_', 'image'), ('_repr_jpeg_', 'image')):
            f = getattr(obj, name, None)
            if f:
                return mime, f(), None, {}
        return 'text/plain', repr(obj), None, {}

    class DisplayHandle:
        def __init__(self, display_id):
            self.display_id = display_id

        def display(self, obj):
            display(obj, display_id=self.display_id)

        def update(self, obj):
            display(obj, display_id=self.display_id, update=True)

    def display(*objs, display_id=None, update=False):
        if jupyter._t is None:
            return None
        if display_id is True:
            jupyter._n += 1
            display_id = jupyter._t[:8] + '-' + str(jupyter._n)
        for obj in objs:
            mime, data, path, meta = bundle(obj)
            send('display', {'mime': mime, 'id': display_id, 'update': update, 'meta': meta}, data, path)
        if display_id:
            return DisplayHandle(display_id)

    def update_display(obj, display_id):
        display(obj, display_id=display_id, update=True)

    def clear_output(wait=False):
        send('clear', {'wait': bool(wait)})

    # plot(21.5, 300) or plot(temp=21.5, light=300): one point of each
    # series on the cell's live chart (plot.go).
    def plot(*values, **named):
        send('plot', {'values': list(values), 'named': named})

    for f in (send, display, update_display, clear_output, plot, HTML, Markdown, SVG, Image, JSON, DisplayHandle):
        setattr(jupyter, f.__name__, f)
    sys.modules['jupyter'] = jupyter


__wk_jupyter()
del __wk_jupyter
