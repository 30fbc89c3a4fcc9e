"""Write a small exec credential plugin for tests: it counts its runs in a file.

The plugin prints an ExecCredential whose token is ``TOKENS[min(run, len(TOKENS)) - 1]``
(``TOKENS`` comma-separated in its environment), so a test can make the first credential
bad and the next good. ``EXPIRES`` sets the expirationTimestamp; ``EXEC_API`` the apiVersion
it answers with; ``EXEC_INFO_OUT`` receives the KUBERNETES_EXEC_INFO it was given, and
``ENV_OUT`` its whole environment as a JSON object.
"""

from __future__ import annotations

import stat
import sys
from pathlib import Path

SCRIPT = """#!{python}
import json, os, sys
counter = os.environ["COUNTER"]
runs = int(open(counter).read() or 0) + 1 if os.path.exists(counter) else 1
open(counter, "w").write(str(runs))
if os.environ.get("EXEC_INFO_OUT"):
    open(os.environ["EXEC_INFO_OUT"], "w").write(os.environ.get("KUBERNETES_EXEC_INFO", ""))
if os.environ.get("ENV_OUT"):
    open(os.environ["ENV_OUT"], "w").write(json.dumps(dict(os.environ)))
if os.environ.get("FAIL"):
    sys.exit(3)
tokens = os.environ["TOKENS"].split(",")
status = {{"token": tokens[min(runs, len(tokens)) - 1]}}
if os.environ.get("EXPIRES"):
    status["expirationTimestamp"] = os.environ["EXPIRES"]
api = os.environ.get("EXEC_API", "client.authentication.k8s.io/v1")
print(json.dumps({{"apiVersion": api, "kind": "ExecCredential", "status": status}}))
"""


def write_plugin(directory: Path) -> Path:
    path = directory / "get-token"
    path.write_text(SCRIPT.format(python=sys.executable))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def runs(counter: Path) -> int:
    return int(counter.read_text()) if counter.exists() else 0


def env(**values: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(values.items()))
