"""A sandbox cluster with a filesystem location, its recovery key and a writer credential,
for commands that run against both (install, node agents)."""

from __future__ import annotations

import pathlib

from strongroom.crypto import agekeys
from strongroom.errors import ExitCode
from strongroom.sandbox import server
from tests.cli.helpers import Cli, Outcome


class SandboxLocation:
    def __init__(self, cli: Cli, sandbox: server.Sandbox, tmp: pathlib.Path) -> None:
        self.cli, self.sandbox, self.tmp = cli, sandbox, tmp
        self.kubeconfig = sandbox.write_kubeconfig(tmp / "kubeconfig")
        identity = agekeys.Identity.generate()
        self.identity = tmp / "recovery.txt"
        self.identity.write_text(identity.encode() + "\n")
        made = cli("location", "create", "local", "--provider", "filesystem", "--bucket",
                   str(tmp / "bucket"), "--recipient", identity.recipient().encode())  # fmt: skip
        assert made.code == ExitCode.OK, made.err
        self.credential = tmp / "writer.json"
        added = self.run("key", "add", "--writer-output", str(self.credential))
        assert added.code == ExitCode.OK, added.err

    def run(self, *args: str) -> Outcome:
        return self.cli("--kubeconfig", str(self.kubeconfig), "--identity", str(self.identity),
                        *args)  # fmt: skip
