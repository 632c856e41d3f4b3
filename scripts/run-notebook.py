"""Run notebooks on the kernel with nbclient and show each cell's output.

A cell tagged "raises-exception" must fail; any other failing cell fails the run.
A notebook for another kernel, or with no kernelspec in its metadata (a learner's own file saved
into notebooks/), is skipped with a note instead of failing the run.
--write stores the executed notebook back into its file (how the lessons' outputs are made).
Usage: .venv/bin/python scripts/run-notebook.py [--quiet] [--write] NOTEBOOK...
"""
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def text_of(output):
    kind = output.get("output_type")
    if kind == "stream":
        return output.get("text", "")
    if kind in ("execute_result", "display_data"):
        return output.get("data", {}).get("text/plain", "") + "\n"
    if kind == "error":
        return "%s: %s\n" % (output.get("ename"), output.get("evalue"))
    return ""


KERNEL = "micropython-webrepl"


def run(path, quiet, write):
    """True when the notebook passed, False when it failed, None when it was skipped."""
    nb = nbformat.read(path, as_version=4)
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    if kernel != KERNEL:
        why = "no kernelspec in its metadata" if kernel is None else "its kernel is %s" % kernel
        print("%s: skipped: %s, not %s" % (path, why, KERNEL), file=sys.stderr)
        return None
    client = NotebookClient(nb, timeout=120, kernel_name=KERNEL, record_timing=not write)
    try:
        client.execute()
    except CellExecutionError as err:
        print("%s: a cell failed: %s" % (path, str(err).strip().splitlines()[-1]), file=sys.stderr)
        return False
    ok = True
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.get("output_type") == "error"]
        if "raises-exception" in cell.metadata.get("tags", []) and not errors:
            print("%s: a cell tagged raises-exception did not raise:\n%s" % (path, cell.source), file=sys.stderr)
            ok = False
        if not quiet:
            print("In [%s]:" % cell.get("execution_count"))
            print("    " + cell.source.replace("\n", "\n    "))
            out = "".join(text_of(o) for o in cell.outputs)
            if out:
                print("  " + out.rstrip("\n").replace("\n", "\n  "))
            print()
    if write and ok:
        # Connecting is silent (the kernel prints nothing about the board when all is well), so
        # the outputs are stored as they came and read the same on any board.
        nbformat.validate(nb)
        nbformat.write(nb, path)
    return ok


def main(argv):
    quiet = "--quiet" in argv
    write = "--write" in argv
    paths = [a for a in argv if a not in ("--quiet", "--write")]
    results = [run(p, quiet, write) for p in paths]
    print("notebooks: %d passed, %d failed, %d skipped"
          % (results.count(True), results.count(False), results.count(None)))
    return 1 if False in results else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
