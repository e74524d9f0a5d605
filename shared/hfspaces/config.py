"""A Space's `/config`, read into what the client needs: api prefix, endpoints and the
components they read and write (`schema.py` turns those into typed descriptions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from . import errors

#: "public": in the Space's API page; "undocumented": callable but hidden from it
#: (gradio 5 `show_api=False`); "private": not callable by API (gradio 4/5 `api_name=False`,
#: gradio 6 `api_visibility="private"`).
Visibility = Literal["public", "undocumented", "private"]


@dataclass(frozen=True)
class Endpoint:
    fn_index: int
    api_name: str | None
    queued: bool
    generator: bool
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    trigger_id: int | None
    visibility: Visibility = "public"
    #: The endpoint's own description (gradio 6 `api_description`, else the function's).
    description: str | None = None


@dataclass(frozen=True)
class SpaceConfig:
    version: str
    protocol: str
    api_prefix: str
    endpoints: tuple[Endpoint, ...]
    components: dict[int, dict[str, Any]]
    title: str | None = None

    @property
    def major_version(self) -> int:
        try:
            return int(self.version.split(".")[0])
        except ValueError:
            return 0

    @property
    def api_names(self) -> list[str]:
        return sorted(e.api_name for e in self.endpoints if e.api_name)

    def find(self, name: str | int) -> Endpoint | None:
        if isinstance(name, int):
            return next((e for e in self.endpoints if e.fn_index == name), None)
        key = name.lstrip("/")
        return next((e for e in self.endpoints if e.api_name == key), None)

    def component_type(self, component_id: int) -> str | None:
        comp = self.components.get(component_id)
        return comp.get("type") if comp else None


def parse_config(body: Any, space: str | None) -> SpaceConfig:
    if not isinstance(body, dict) or not isinstance(body.get("dependencies"), list):
        raise errors.ProtocolError(
            "the server's /config is not a Gradio app config; is the endpoint a Gradio app?",
            space=space,
        )
    endpoints = []
    for index, dep in enumerate(body["dependencies"]):
        if not isinstance(dep, dict):
            continue
        fn_index = dep.get("id", index)
        api_name = dep.get("api_name")
        targets = dep.get("targets") or []
        trigger = targets[0][0] if targets and isinstance(targets[0], list) and targets[0] else None
        types = dep.get("types")
        types = types if isinstance(types, dict) else {}
        description = dep.get("api_description") or dep.get("description")
        endpoints.append(
            Endpoint(
                fn_index=fn_index if isinstance(fn_index, int) else index,
                api_name=api_name if isinstance(api_name, str) and api_name else None,
                queued=dep.get("queue") is not False,
                generator=bool(types.get("generator")),
                inputs=tuple(i for i in dep.get("inputs") or [] if isinstance(i, int)),
                outputs=tuple(i for i in dep.get("outputs") or [] if isinstance(i, int)),
                trigger_id=trigger if isinstance(trigger, int) else None,
                visibility=_visibility(dep),
                description=description if isinstance(description, str) else None,
            )
        )
    components = {
        c["id"]: c for c in body.get("components") or [] if isinstance(c, dict) and "id" in c
    }
    prefix = body.get("api_prefix")
    return SpaceConfig(
        version=str(body.get("version") or "0"),
        protocol=str(body.get("protocol") or ""),
        api_prefix=("/" + prefix.strip("/"))
        if isinstance(prefix, str) and prefix.strip("/")
        else "",
        endpoints=tuple(endpoints),
        components=components,
        title=body["title"] if isinstance(body.get("title"), str) else None,
    )


def _visibility(dep: dict[str, Any]) -> Visibility:
    declared = dep.get("api_visibility")  # gradio 6
    if declared in ("public", "undocumented", "private"):
        return declared  # type: ignore[no-any-return]
    if dep.get("api_name") is False:
        return "private"
    return "undocumented" if dep.get("show_api") is False else "public"
