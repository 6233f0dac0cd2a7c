"""PASS:/FAIL: lines in the form run_checks (tests/e2e/lib.sh) counts, for
the Python checkers, and their exit status."""
import sys

_fails = 0


def result(name, ok, detail):
    """One check: 'PASS: name (detail)' or 'FAIL: name: detail'."""
    global _fails
    if ok:
        print("PASS: %s (%s)" % (name, detail))
    else:
        _fails += 1
        print("FAIL: %s: %s" % (name, detail))
    sys.stdout.flush()


def exit_status():
    """1 if any check failed, else 0."""
    return 1 if _fails else 0
