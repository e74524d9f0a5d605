"""Any chat Space as a LangChain chat model, with no registry entry: `ChatHFSpaces(space=...)`
finds the Space's chat endpoint in its /config and streams its generator's tokens.

    python examples/langchain_any_chat_space.py

Talks to `hfspaces-replica/multimodal-chat` (a streaming multimodal gr.ChatInterface) in the
Spaces named by `HFSPACES_ENDPOINTS` when set; otherwise it starts the embedded replica. Point
`space=` at any chat Space id or URL the same way.
"""

from __future__ import annotations

import base64
import io

from _replica import endpoints  # also puts the sources on sys.path in a plain checkout
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from langchain_hfspaces import ChatHFSpaces

SPACE = "hfspaces-replica/multimodal-chat"


def sample_png() -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (48, 32), (30, 160, 60)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def main() -> None:
    llm = ChatHFSpaces(space=SPACE)
    print(f"{SPACE}, streamed:")
    for chunk in llm.stream("hello"):
        print(chunk.content, end="", flush=True)
    print()

    # An image goes in the ChatInterface's MultimodalTextbox; the system prompt to its
    # "System prompt" input; earlier turns are folded into the message (the Space keeps
    # history in a session State that an API caller cannot fill).
    answer = llm.invoke(
        [
            SystemMessage("Answer in one line"),
            HumanMessage("Do you remember me?"),
            AIMessage("Yes."),
            HumanMessage(
                content_blocks=[
                    {"type": "text", "text": "What colour is this?"},
                    {"type": "image", "base64": sample_png(), "mime_type": "image/png"},
                ]
            ),
        ],
        temperature=0.2,
    )
    print(f"with an image and history: {answer.content}")
    print("done")


if __name__ == "__main__":
    with endpoints():
        main()
