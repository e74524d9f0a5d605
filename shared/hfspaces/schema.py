"""Typed endpoint descriptions from a Space's `/config` (and `/gradio_api/info`). Pure.

`/config` carries every component's props (label, info, value, minimum/maximum/step,
precision, choices, file_count); `/info` adds the Python parameter names of the function
(`prompt`, `seed`, ...), which `/config` lacks. From both, each named endpoint becomes an
`EndpointSchema`: parameters with a JSON-schema type, description, default, required-ness,
enum, bounds and file kind; outputs with their kind. `bind` turns named arguments into the
positional payload (defaults filled, `gr.State` slots left None) after validating them;
`fill` does the same for a positional payload that is too short.
"""

from __future__ import annotations

import keyword
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .config import Endpoint, SpaceConfig
from .errors import InvalidInputError, SpaceChangedError
from .media import Media

FileKind = Literal["image", "audio", "video", "model3d", "file"]
OutputKind = Literal[
    "text", "number", "boolean", "json", "image", "audio", "video", "model3d", "file",
    "gallery", "chat",
]  # fmt: skip

_FILE_KINDS: dict[str, FileKind] = {
    "image": "image",
    "simpleimage": "image",
    "annotatedimage": "image",
    "imageeditor": "image",
    "imageslider": "image",
    "audio": "audio",
    "video": "video",
    "playablevideo": "video",
    "model3d": "model3d",
    "file": "file",
    "uploadbutton": "file",
    "downloadbutton": "file",
    "simplefile": "file",
}
_TEXT = {"textbox", "textarea", "markdown", "html", "code", "simpletextbox", "colorpicker"}
_NUMBER = {"number", "slider", "simplenumber"}
_CHOICES = {"dropdown", "radio", "checkboxgroup"}
#: Components that hold no user value: never API parameters (gradio_client skips them too).
_SKIPPED = {"state", "browserstate", "row", "column", "tabs", "tab", "tabitem", "form",
            "group", "accordion", "dataset", "button"}  # fmt: skip

#: Marks a positional input that should take the endpoint's declared default.
DEFAULT: Any = type("Default", (), {"__repr__": lambda self: "DEFAULT"})()


@dataclass(frozen=True)
class Parameter:
    """One input of an endpoint, as a tool argument."""

    name: str
    component: str
    label: str | None
    description: str | None
    json_type: str
    has_default: bool = False
    default: Any = None
    enum: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    file_kind: FileKind | None = None
    #: A list of values (CheckboxGroup, multiselect Dropdown, Gallery, multi-file File).
    multiple: bool = False
    #: Position in the endpoint's inputs (state slots included).
    position: int = 0

    @property
    def required(self) -> bool:
        return not self.has_default

    def json_schema(self) -> dict[str, Any]:
        """This parameter as a JSON schema (file parameters are strings: path, URL, base64)."""
        item: dict[str, Any] = {"type": "string" if self.file_kind else self.json_type}
        if self.file_kind:
            item["format"] = f"{self.file_kind} file"
        if self.enum is not None:
            item["enum"] = list(self.enum)
        if self.minimum is not None:
            item["minimum"] = _plain(self.minimum)
        if self.maximum is not None:
            item["maximum"] = _plain(self.maximum)
        if self.step is not None and self.json_type == "integer" and self.step > 1:
            item["multipleOf"] = _plain(self.step)
        schema = {"type": "array", "items": item} if self.multiple else item
        if self.description:
            schema["description"] = self.description
        if self.has_default and not self.file_kind:
            schema["default"] = self.default
        return schema

    def check(self, value: Any, where: str) -> Any:
        """Validate one argument against the declared type, enum and bounds; returns the
        value as the Space takes it. Raises `InvalidInputError` naming the parameter."""
        if self.multiple:
            if not isinstance(value, (list, tuple)):
                value = [value]
            return [self._check_one(v, where) for v in value]
        return self._check_one(value, where)

    def _check_one(self, value: Any, where: str) -> Any:
        bad = f"{where}: {self.name} "
        if self.component == "multimodaltextbox":
            if isinstance(value, str):
                return {"text": value, "files": []}
            if isinstance(value, Mapping):
                return value  # {"text", "files"} as the Space takes it
        if self.file_kind:
            return _file_value(value, bad)
        if self.enum is not None and value not in self.enum:
            choices = ", ".join(repr(c) for c in self.enum)
            raise InvalidInputError(f"{bad}must be one of {choices}, got {value!r}")
        if self.json_type in ("number", "integer"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InvalidInputError(f"{bad}must be a number, got {value!r}")
            if not math.isfinite(value):
                raise InvalidInputError(f"{bad}must be a finite number, got {value!r}")
            if self.json_type == "integer":
                if value != int(value):
                    raise InvalidInputError(f"{bad}must be a whole number, got {value!r}")
                value = int(value)
            low, high = self.minimum, self.maximum
            if (low is not None and value < low) or (high is not None and value > high):
                raise InvalidInputError(f"{bad}must be {_bounds(low, high)}, got {value!r}")
        elif self.json_type == "boolean" and not isinstance(value, bool):
            raise InvalidInputError(f"{bad}must be true or false, got {value!r}")
        elif self.json_type == "string" and not isinstance(value, str):
            raise InvalidInputError(f"{bad}must be a string, got {type(value).__name__}")
        return value


@dataclass(frozen=True)
class Output:
    name: str
    component: str
    label: str | None
    kind: OutputKind
    #: Not a user-facing value (`gr.State`): left out of what tools return.
    hidden: bool = False


@dataclass(frozen=True)
class EndpointSchema:
    api_name: str | None
    endpoint: Endpoint
    description: str
    parameters: tuple[Parameter, ...]
    outputs: tuple[Output, ...]
    #: Component type of every input slot, state slots included (for `fill`, `require`).
    input_types: tuple[str, ...]
    space: str | None = None

    @property
    def label(self) -> str:
        return "/" + self.api_name if self.api_name else f"fn_index {self.endpoint.fn_index}"

    @property
    def offered(self) -> bool:
        """Whether tools offer it: named, public, queued (unqueued ones are UI helpers)."""
        ep = self.endpoint
        return bool(self.api_name) and ep.visibility == "public" and ep.queued

    def parameter(self, name: str) -> Parameter:
        found = next((p for p in self.parameters if p.name == name), None)
        if found is None:
            raise InvalidInputError(
                f"{self.label} has no parameter {name!r}; it takes "
                f"{', '.join(p.name for p in self.parameters) or 'no parameters'}"
            )
        return found

    def json_schema(self) -> dict[str, Any]:
        """The arguments object as a JSON schema (what an agent's model fills in)."""
        return {
            "type": "object",
            "properties": {p.name: p.json_schema() for p in self.parameters},
            "required": [p.name for p in self.parameters if p.required],
            "additionalProperties": False,
        }

    def bind(self, arguments: Mapping[str, Any]) -> list[Any]:
        """Named arguments → the positional payload, validated, defaults filled.
        Raises `InvalidInputError` (unknown, missing, out of range) before any request."""
        unknown = sorted(set(arguments) - {p.name for p in self.parameters})
        if unknown:
            raise InvalidInputError(
                f"{self.label} does not take {', '.join(unknown)}; it takes "
                f"{', '.join(p.name for p in self.parameters) or 'no parameters'}"
            )
        data: list[Any] = [None] * len(self.input_types)
        for p in self.parameters:
            value = arguments.get(p.name, DEFAULT)
            if value is DEFAULT or value is None:
                if not p.has_default:
                    raise InvalidInputError(
                        f"{self.label} needs {p.name} ({_what(p)}): it has no default"
                    )
                data[p.position] = p.default
            else:
                data[p.position] = p.check(value, self.label)
        return data

    def fill(self, data: Sequence[Any]) -> list[Any]:
        """A positional payload completed from the declared defaults: missing trailing
        inputs and `DEFAULT` markers take the component's value; state slots take None."""
        if len(data) > len(self.input_types):
            raise InvalidInputError(
                f"{self.label} takes {len(self.input_types)} inputs, got {len(data)}"
            )
        by_position = {p.position: p for p in self.parameters}
        out = list(data) + [DEFAULT] * (len(self.input_types) - len(data))
        for i, value in enumerate(out):
            if value is not DEFAULT:
                continue
            p = by_position.get(i)
            if p is None:
                out[i] = None  # a state slot: the server keeps it
            elif p.has_default:
                out[i] = p.default
            else:
                raise InvalidInputError(
                    f"{self.label} needs input {i + 1} {p.name!r} ({_what(p)}): "
                    "it has no default, so pass a value"
                )
        return out

    def require(self, inputs: Sequence[str], outputs: Sequence[str]) -> None:
        """Check the endpoint still has the shape an adapter was written for: the first
        inputs and outputs of these component types. Extra trailing inputs are fine when
        they have defaults (`fill` supplies them). Raises `SpaceChangedError` saying what
        changed."""
        changes: list[str] = []
        have_in, have_out = self.input_types, tuple(o.component for o in self.outputs)
        if have_in[: len(inputs)] != tuple(inputs):
            changes.append(f"inputs were ({', '.join(inputs)}), now ({', '.join(have_in)})")
        if have_out[: len(outputs)] != tuple(outputs):
            changes.append(f"outputs were ({', '.join(outputs)}), now ({', '.join(have_out)})")
        extra = [p.name for p in self.parameters if p.position >= len(inputs) and not p.has_default]
        if extra:
            changes.append(f"new inputs without defaults: {', '.join(extra)}")
        if changes:
            raise SpaceChangedError(
                f"the Space's {self.label} changed: {'; '.join(changes)}. hfspaces cannot "
                "call it the old way; update hfspaces or use a Space that has the old API.",
                space=self.space,
            )


@dataclass(frozen=True)
class SpaceSchema:
    title: str | None
    version: str
    endpoints: tuple[EndpointSchema, ...]

    def offered(self) -> list[EndpointSchema]:
        """The endpoints tools offer (named, public, queued)."""
        return [e for e in self.endpoints if e.offered]

    def endpoint(self, name: str | int) -> EndpointSchema:
        key = name.lstrip("/") if isinstance(name, str) else name
        for e in self.endpoints:
            if e.api_name == key or e.endpoint.fn_index == key:
                return e
        names = ", ".join(e.label for e in self.offered()) or "(none)"
        raise InvalidInputError(f"the Space has no endpoint {name!r}; it offers {names}")


def build_schema(
    config: SpaceConfig, info: Mapping[str, Any] | None = None, *, space: str | None = None
) -> SpaceSchema:
    """Every endpoint of `config` described; `info` (the `/info` body) supplies names."""
    named = info.get("named_endpoints") if isinstance(info, Mapping) else None
    named = named if isinstance(named, Mapping) else {}
    endpoints = tuple(
        endpoint_schema(config, ep, named.get("/" + ep.api_name) if ep.api_name else None, space)
        for ep in config.endpoints
    )
    return SpaceSchema(title=config.title, version=config.version, endpoints=endpoints)


def endpoint_schema(
    config: SpaceConfig,
    endpoint: Endpoint,
    info: Mapping[str, Any] | None = None,
    space: str | None = None,
) -> EndpointSchema:
    """One endpoint described (`info`: its entry of `/info`'s `named_endpoints`)."""
    comps = [config.components.get(i) or {} for i in endpoint.inputs]
    types = tuple(str(c.get("type") or "unknown") for c in comps)
    info_params = info.get("parameters") if isinstance(info, Mapping) else None
    info_params = [p for p in info_params or [] if isinstance(p, Mapping)]
    parameters: list[Parameter] = []
    taken: set[str] = set()
    for position, comp in enumerate(comps):
        if _skipped(comp, types[position]):
            continue
        declared = info_params[len(parameters)] if len(parameters) < len(info_params) else {}
        parameters.append(_parameter(comp, position, declared, taken))
    outputs: list[Output] = []
    out_taken: set[str] = set()
    for i in endpoint.outputs:
        comp = config.components.get(i) or {}
        kind_name = str(comp.get("type") or "unknown")
        label = _label(comp)
        outputs.append(
            Output(
                name=_unique(identifier(label or kind_name), out_taken),
                component=kind_name,
                label=label,
                kind=_output_kind(kind_name),
                hidden=_skipped(comp, kind_name),
            )
        )
    description = endpoint.description or (
        info.get("description") if isinstance(info, Mapping) else None
    )
    return EndpointSchema(
        api_name=endpoint.api_name,
        endpoint=endpoint,
        description=description or _summary(config, endpoint.api_name, parameters, outputs),
        parameters=tuple(parameters),
        outputs=tuple(outputs),
        input_types=types,
        space=space,
    )


def identifier(text: str) -> str:
    """A valid Python / tool identifier from a label or api_name."""
    name = re.sub(r"\W+", "_", text.strip().lower(), flags=re.ASCII).strip("_") or "value"
    if name[0].isdigit():
        name = "p_" + name
    return name + "_" if keyword.iskeyword(name) else name


# -- components ----------------------------------------------------------------------------------


def _parameter(
    comp: Mapping[str, Any], position: int, declared: Mapping[str, Any], taken: set[str]
) -> Parameter:
    kind = str(comp.get("type") or "unknown")
    props = comp.get("props") if isinstance(comp.get("props"), Mapping) else {}
    assert isinstance(props, Mapping)
    label = _label(comp)
    name = declared.get("parameter_name")
    if isinstance(name, str) and re.fullmatch(r"param_\d+", name) and label:
        name = None  # gradio's placeholder for `*args`: the label says more
    name = _unique(
        identifier(name if isinstance(name, str) else label or f"{kind}_{position}"), taken
    )
    info = props.get("info")
    description = ". ".join(
        s.strip().rstrip(".") for s in (label, info) if isinstance(s, str) and s.strip()
    )
    if "parameter_has_default" in declared:
        has_default = bool(declared["parameter_has_default"])
        default = declared.get("parameter_default")
    else:
        has_default, default = "value" in props, props.get("value")
    fields: dict[str, Any] = {}
    json_type = "string"
    if kind in _FILE_KINDS or kind == "gallery":
        fields["file_kind"] = _FILE_KINDS.get(kind, "image")
        many = props.get("file_count") in ("multiple", "directory")
        fields["multiple"] = kind == "gallery" or many
    elif kind in _NUMBER:
        step = _float(props.get("step"))
        integral = (
            props.get("precision") == 0
            if kind == "number"
            else step is not None and step == int(step) and _whole(props.get("minimum"))
        )
        json_type = "integer" if integral else "number"
        fields.update(
            minimum=_float(props.get("minimum")), maximum=_float(props.get("maximum")), step=step
        )
    elif kind == "checkbox":
        json_type = "boolean"
    elif kind == "multimodaltextbox":
        has_default = False  # the message itself: a tool takes its text (see `check`)
    elif kind in _CHOICES:
        choices = tuple(_choice_value(c) for c in props.get("choices") or [])
        if choices and not props.get("allow_custom_value"):
            fields["enum"] = choices
        if choices and all(
            isinstance(c, (int, float)) and not isinstance(c, bool) for c in choices
        ):
            json_type = "integer" if all(isinstance(c, int) for c in choices) else "number"
        fields["multiple"] = kind == "checkboxgroup" or bool(props.get("multiselect"))
    elif kind not in _TEXT:
        json_type = _api_type(comp)
    return Parameter(
        name=name,
        component=kind,
        label=label,
        description=description or None,
        json_type=json_type,
        has_default=has_default,
        default=default,
        position=position,
        **fields,
    )


def _skipped(comp: Mapping[str, Any], kind: str) -> bool:
    """Not an API value (`gr.State`, layout): gradio's own `skip_api` flag when the config
    has it (gradio 4+), else the component type."""
    declared = comp.get("skip_api")
    return declared if isinstance(declared, bool) else kind in _SKIPPED


def _output_kind(component: str) -> OutputKind:
    if component == "gallery":
        return "gallery"
    if component == "chatbot":
        return "chat"
    if component in _FILE_KINDS:
        return _FILE_KINDS[component]
    if component in _TEXT:
        return "text"
    if component in _NUMBER:
        return "number"
    return "boolean" if component == "checkbox" else "json"


def _api_type(comp: Mapping[str, Any]) -> str:
    """JSON type of a component we do not know, from gradio's own `api_info`."""
    api = comp.get("api_info_as_input") or comp.get("api_info")
    declared = api.get("type") if isinstance(api, Mapping) else None
    return declared if declared in ("string", "number", "integer", "boolean", "array") else "object"


def _label(comp: Mapping[str, Any]) -> str | None:
    props = comp.get("props")
    label = props.get("label") if isinstance(props, Mapping) else None
    return label.strip() if isinstance(label, str) and label.strip() else None


def _choice_value(choice: Any) -> Any:
    # gradio 4+: [display, value] pairs; older: bare values.
    return choice[1] if isinstance(choice, (list, tuple)) and len(choice) == 2 else choice


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    taken.add(candidate)
    return candidate


def _summary(
    config: SpaceConfig, api_name: str | None, params: list[Parameter], outputs: list[Output]
) -> str:
    ins = ", ".join(p.name for p in params)
    outs = ", ".join(o.label or o.kind for o in outputs if not o.hidden)
    where = f"{config.title}: " if config.title else ""
    return f"{where}/{api_name or '?'}({ins}) -> {outs or 'nothing'}"


def _what(p: Parameter) -> str:
    kind = p.file_kind or p.component
    return f"{kind} {p.label!r}" if p.label else kind


def _file_value(value: Any, bad: str) -> Any:
    """Files are `Media`, paths, FileData dicts, or http(s)/data: URL strings; the client
    uploads the first two. A bare string is never read as a local path here."""
    if isinstance(value, (Media, os.PathLike)) or (isinstance(value, Mapping) and "path" in value):
        return value
    if isinstance(value, (str, bytes)):
        try:
            return Media.of(value)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{bad}is not a usable file: {exc}") from exc
    raise InvalidInputError(f"{bad}must be a file (path, URL or media), got {type(value).__name__}")


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _plain(value: float) -> float | int:
    return int(value) if value.is_integer() else value


def _whole(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and float(value).is_integer())


def _bounds(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"between {low:g} and {high:g}"
    return f"at least {low:g}" if low is not None else f"at most {high:g}"
