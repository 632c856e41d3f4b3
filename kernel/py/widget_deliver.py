# What the kernel calls between cells with the values a frontend gave the
# board's widgets (widgetcomm.go): a JSON object of widget id → the values
# that changed ({"value": 5}, {"clicks": 3}); py/widgets.py's _deliver calls
# their callbacks. It binds no name.

(lambda answers: __import__('sys').modules['jupyter.widgets']._deliver(answers))
