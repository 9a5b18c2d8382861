"""``shoploop plugins``: what is installed, what it implements, what failed."""

from __future__ import annotations

from typing import Any

import typer

from shoploop._plugins import PluginHost

from ._state import State, console, print_json
from ._tables import ReadableTable


def describe_plugins(host: PluginHost) -> dict[str, Any]:
    """The data behind ``shoploop plugins --json`` (stable keys; documented in docs/cli.md)."""
    plugins = []
    for name in host.plugin_names():
        dist = host.distributions.get(name)
        plugin = host.pm.get_plugin(name)
        plugins.append({
            "name": name,
            "module": getattr(plugin, "__name__", type(plugin).__name__),
            "distribution": dist.metadata["Name"] if dist else None,
            "version": dist.version if dist else None,
            "hooks": host.hooks_of(name),
            "connector_types": sorted(t.name for t in host.connectors.types.values()
                                      if t.plugin == name),
            "transforms": sorted(t.name for t in host.transforms.transforms.values()
                                 if t.plugin == name),
            "emulators": sorted(e.name for e in host.emulators.emulators.values()
                                if e.plugin == name),
        })
    connector_types = [
        {"name": t.name, "plugin": t.plugin, "description": t.description,
         "capabilities": sorted(c.value for c in t.capabilities),
         "config_keys": sorted(k for k in t.config_model.model_fields if k != "type")}
        for t in sorted(host.connectors.types.values(), key=lambda t: t.name)
    ]
    emulators = [{"name": e.name, "plugin": e.plugin, "description": e.description}
                 for e in sorted(host.emulators.emulators.values(), key=lambda e: e.name)]
    failures = [{"plugin": f.plugin, "hook": f.hook, "error": f.error} for f in host.failures]
    return {"plugins": plugins, "connector_types": connector_types, "emulators": emulators,
            "failures": failures}


def register(app: typer.Typer) -> None:
    @app.command("plugins")
    def plugins(
        ctx: typer.Context,
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """List installed plugins, the hooks they implement and the connector types they add."""
        state: State = ctx.obj
        data = describe_plugins(state.host)
        if as_json:
            print_json(data)
            return
        table = ReadableTable("shoploop plugins", [
            ("plugin", "left"), ("version", "left"), ("hooks", "left"), ("types", "left")])
        for p in data["plugins"]:
            table.add_row(p["name"], p["version"] or "-", ", ".join(p["hooks"]),
                          ", ".join(p["connector_types"]) or "-")
        console.print(table)
        types = ReadableTable("connector types", [
            ("type", "left"), ("plugin", "left"), ("capabilities", "left")])
        for t in data["connector_types"]:
            types.add_row(t["name"], t["plugin"], ", ".join(t["capabilities"]) or "(none yet)")
        console.print(types)
        for f in data["failures"]:
            hook = f", hook {f['hook']!r}" if f["hook"] else ""
            console.print(f"[yellow]failed:[/] plugin {f['plugin']!r}{hook}: {f['error']}")
