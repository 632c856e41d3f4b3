# The board-side widgets, module 'jupyter.widgets' (widgetcomm.go and
# docs/design.md, "Widgets"). Defined with the cell helper after py/jupyter.py,
# once per connection. Board code writes:
#
#   from jupyter.widgets import IntSlider, FloatSlider, ToggleButton, Button, Dropdown, Label, HTML, Play
#   s = IntSlider(0, 1023, on_change=pwm.duty)
#
# Making a widget sends the kernel a 'widget' message through the cell's
# message channel (jupyter.send): the kernel opens the widget's comms and
# shows it in the cell. Only a cell makes widgets (between cells there is no
# channel). Each widget has an id of the cell's token and a serial; the
# widgets live in _w until close(), so the kernel can reach them between
# cells.
#
# Values from the frontend reach the board two ways, never through text a
# program prints or reads:
#   - between cells the kernel runs (py/widget_deliver.py) _deliver with the
#     new values as JSON; each widget calls its callback. An id that is not
#     in _w (the board was reset since) is answered with a 'widget.gone'
#     message, and the kernel tells the frontend.
#   - while a cell runs, reading a value the frontend can change (s.value,
#     b.clicks) sends 'widget.get' and reads one line, as input() does: the
#     kernel types the widget's current values as a JSON line at once. A
#     value that changed calls the callback too, in the cell.
# Setting an attribute (s.value = 3, s.description = 'x') sends
# 'widget.set' while a cell runs; between cells it changes the board's copy
# only.
#
# A callback gets the new value (on_change), or the button (on_click).


def __wk_widgets(sys=__import__('sys'), json=__import__('json'), readline=input):
    # The module jupyter of the time of the call: it is defined again with
    # the helper, and widgets made earlier must use the current one.
    def J():
        return sys.modules['jupyter']

    class widgets:
        pass

    old = sys.modules.get('jupyter.widgets')
    widgets._w = old._w if old else {}
    widgets._n = old._n if old else 0

    class Widget:
        _kind = None
        _key = 'value'   # the state key that is the widget's value
        _live = True     # the frontend changes the value: ask for it in a cell

        def __init__(self, state, callback=None, show=True):
            j = J()
            if j._t is None:
                raise OSError('widgets are made by a cell')
            widgets._n += 1
            self._id = j._t[:8] + '-' + str(widgets._n)
            self._s = state
            self._cb = callback
            self._clicks = 0
            widgets._w[self._id] = self
            j.send('widget', {'id': self._id, 'kind': self._kind, 'state': state, 'show': bool(show)})

        def _get(self, key):
            j = J()
            if self._live and j._t is not None and j.send('widget.get', {'id': self._id}):
                self._learn(json.loads(readline()))
            return self._s.get(key)

        def _set(self, key, value):
            old = self._s.get(key)
            self._s[key] = value
            J().send('widget.set', {'id': self._id, 'state': {key: value}})
            if key == self._key and old != value and self._cb:
                self._cb(self._out(value))

        def _learn(self, answer):
            for key in answer or ():
                value = answer[key]
                if key == 'clicks':
                    n = value - self._clicks
                    self._clicks = value
                    for _ in range(n):
                        if self._cb:
                            self._cb(self)
                elif self._s.get(key) != value:
                    self._s[key] = value
                    if key == self._key and self._cb:
                        self._cb(self._out(value))

        def _out(self, value):
            return value

        @property
        def value(self):
            return self._out(self._get(self._key))

        @value.setter
        def value(self, value):
            self._set(self._key, value)

        @property
        def description(self):
            return self._s.get('description')

        @description.setter
        def description(self, text):
            self._set('description', text)

        @property
        def disabled(self):
            return self._s.get('disabled')

        @disabled.setter
        def disabled(self, flag):
            self._set('disabled', bool(flag))

        def show(self):
            J().send('widget.show', {'id': self._id})

        def close(self):
            widgets._w.pop(self._id, None)
            J().send('widget.close', {'id': self._id})

        def __repr__(self):
            return '%s(value=%r)' % (self._kind, self._out(self._s.get(self._key)))

    class IntSlider(Widget):
        _kind = 'IntSlider'

        def __init__(self, min=0, max=100, value=None, step=1, description='', on_change=None, disabled=False, show=True):
            Widget.__init__(self, {'value': min if value is None else value, 'min': min, 'max': max, 'step': step,
                'description': description, 'disabled': disabled}, on_change, show)

    class FloatSlider(Widget):
        _kind = 'FloatSlider'

        def __init__(self, min=0.0, max=10.0, value=None, step=0.1, description='', on_change=None, disabled=False, show=True):
            Widget.__init__(self, {'value': min if value is None else value, 'min': min, 'max': max, 'step': step,
                'description': description, 'disabled': disabled}, on_change, show)

    class Play(Widget):
        _kind = 'Play'

        def __init__(self, min=0, max=100, value=None, step=1, interval=100, description='', on_change=None,
                repeat=False, disabled=False, show=True):
            Widget.__init__(self, {'value': min if value is None else value, 'min': min, 'max': max, 'step': step,
                'interval': interval, 'repeat': repeat, 'description': description, 'disabled': disabled},
                on_change, show)

    class ToggleButton(Widget):
        _kind = 'ToggleButton'

        def __init__(self, value=False, description='', on_change=None, disabled=False, show=True):
            Widget.__init__(self, {'value': bool(value), 'description': description, 'disabled': disabled},
                on_change, show)

    class Button(Widget):
        _kind = 'Button'
        _key = 'clicks'

        def __init__(self, description='', on_click=None, disabled=False, show=True):
            Widget.__init__(self, {'description': description, 'disabled': disabled}, on_click, show)

        @property
        def clicks(self):
            self._get('clicks')
            return self._clicks

    class Dropdown(Widget):
        _kind = 'Dropdown'
        _key = 'index'

        def __init__(self, options, value=None, description='', on_change=None, disabled=False, show=True):
            self._o = list(options)
            Widget.__init__(self, {'_options_labels': [str(o) for o in self._o],
                'index': 0 if value is None else self._o.index(value),
                'description': description, 'disabled': disabled}, on_change, show)

        def _out(self, index):
            return self._o[index] if index is not None and 0 <= index < len(self._o) else None

        @property
        def value(self):
            return self._out(self._get('index'))

        @value.setter
        def value(self, value):
            self._set('index', self._o.index(value))

        @property
        def index(self):
            return self._get('index')

    class Label(Widget):
        _kind = 'Label'
        _live = False

        def __init__(self, value='', description='', show=True):
            Widget.__init__(self, {'value': str(value), 'description': description}, None, show)

    class HTML(Label):
        _kind = 'HTML'

    def deliver(answers):
        for i, answer in json.loads(answers).items():
            w = widgets._w.get(i)
            if w is None:
                J().send('widget.gone', {'id': i})
            else:
                w._learn(answer)

    for c in (Widget, IntSlider, FloatSlider, Play, ToggleButton, Button, Dropdown, Label, HTML):
        setattr(widgets, c.__name__, c)
    widgets.Slider = IntSlider
    widgets._deliver = deliver
    sys.modules['jupyter.widgets'] = widgets
    J().widgets = widgets


__wk_widgets()
del __wk_widgets
