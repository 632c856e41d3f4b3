"""Run notebooks on the kernel with nbclient and show each cell's output.

A cell tagged "raises-exception" must fail; any other failing cell fails the run.
Usage: /usr/bin/python3 scripts/run-notebook.py [--quiet] NOTEBOOK...
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


def run(path, quiet):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name=nb.metadata["kernelspec"]["name"])
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
    return ok


def main(argv):
    quiet = "--quiet" in argv
    paths = [a for a in argv if a != "--quiet"]
    results = [run(p, quiet) for p in paths]
    print("notebooks: %d passed, %d failed" % (results.count(True), results.count(False)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
