"""A minimal emulator plugin: answers every request with its path, counts like a real one."""

from __future__ import annotations

from shoploop.emulation import EmulatorServer, Request, Response
from shoploop.hooks import EmulatorOptions, RegisterEmulator, hookimpl


class EchoEmulator(EmulatorServer):
    def __init__(self, options: EmulatorOptions) -> None:
        from shoploop.emulation import FaultPlan

        super().__init__(self._answer, host=options.host, port=options.port,
                         faults=FaultPlan(rate=options.faults, seed=options.seed))
        self.greeting = options.extra.get("greeting", "hello")

    def _answer(self, request: Request) -> Response:
        if request.method == "POST":
            self.stats.incr("writes")
        return Response.json({"greeting": self.greeting, "path": request.path})

    def connection_block(self, name: str) -> str:
        return (f'[connections.{name}]\ntype = "echo"\nurl = "{self.url}"\n'
                'token_env = "ECHO_TOKEN"\n')

    def environment(self) -> dict[str, str]:
        return {"ECHO_TOKEN": "echo-secret"}


@hookimpl
def register_emulators(register: RegisterEmulator) -> None:
    register("echo", EchoEmulator, description="echoes paths")
