"""`with_structured_output` for `ChatHFSpaces`: prompt-based JSON (see `hfspaces.structured`).

The schema goes into the last human message as instructions, the answer is parsed and
checked, and one re-ask follows a failure. Each attempt is an ordinary model run (traced,
streamed to callbacks); the whole is one `RunnableLambda`.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any

from hfspaces.structured import (
    Outcome,
    StructuredRequest,
    adrive,
    drive,
    structured_attempts,
)
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langchain_core.utils.function_calling import convert_to_json_schema
from langchain_core.utils.pydantic import is_basemodel_subclass

if TYPE_CHECKING:
    from .chat_models import ChatHFSpaces


def structured_request(schema: dict[str, Any] | type) -> StructuredRequest[Any]:
    """A pydantic class (validated into an instance), a TypedDict or a JSON schema (dicts).
    The schema is LangChain's own rendering (what its tracing records)."""
    json_schema = schema if isinstance(schema, dict) else convert_to_json_schema(schema)
    if isinstance(schema, type) and is_basemodel_subclass(schema):
        # pydantic v2 (model_validate) or v1 (parse_obj); both raise ValueErrors.
        convert = getattr(schema, "model_validate", None) or getattr(schema, "parse_obj")  # noqa: B009
        return StructuredRequest(json_schema, convert)
    return StructuredRequest(json_schema, lambda value: value)


def with_instructions(messages: Sequence[BaseMessage], text: str) -> list[BaseMessage]:
    """The conversation with `text` added to its last human message (a new one if the
    conversation does not end with one): single-turn Spaces read only that turn."""
    out = list(messages)
    if out and isinstance(out[-1], HumanMessage):
        last = out[-1]
        blocks = [*last.content_blocks, {"type": "text", "text": text}]
        out[-1] = last.model_copy(update={"content": blocks})
    else:
        out.append(HumanMessage(text))
    return out


def structured_runnable(
    llm: ChatHFSpaces, schema: dict[str, Any] | type, include_raw: bool, method: str
) -> RunnableLambda[Any, Any]:
    request = structured_request(schema)
    # What LangChain's tracing records about a structured-output run.
    traced: dict[str, Any] = {
        "ls_structured_output_format": {"kwargs": {"method": method}, "schema": request.schema}
    }

    def start(input: Any) -> Generator[list[BaseMessage], AIMessage, Outcome[AIMessage, Any]]:
        messages = llm._convert_input(input).to_messages()
        messages = with_instructions(messages, request.instructions())
        return structured_attempts(request, messages, _retry, _text, llm._spec().space)

    def result(outcome: Outcome[AIMessage, Any]) -> Any:
        raw, value, error = outcome
        if include_raw:
            return {"raw": raw, "parsed": value, "parsing_error": error}
        if error is not None:
            raise error
        return value

    def invoke(input: Any, config: RunnableConfig) -> Any:
        return result(drive(start(input), lambda m: _ai(llm.invoke(m, config, **traced))))

    async def ainvoke(input: Any, config: RunnableConfig) -> Any:
        async def ask(messages: list[BaseMessage]) -> AIMessage:
            return _ai(await llm.ainvoke(messages, config, **traced))

        return result(await adrive(start(input), ask))

    return RunnableLambda(invoke, afunc=ainvoke, name="ChatHFSpacesStructuredOutput")


def _retry(sent: list[BaseMessage], raw: AIMessage, reask: str) -> list[BaseMessage]:
    return [*sent, raw, HumanMessage(reask)]


def _text(raw: AIMessage) -> str:
    return raw.text


def _ai(message: BaseMessage) -> AIMessage:
    # invoke() returns an AIMessage; keep the type precise for the re-ask history.
    return message if isinstance(message, AIMessage) else AIMessage(message.text)
