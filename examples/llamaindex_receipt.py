"""Read a receipt photo into a typed object with HFSpacesLLM (LlamaIndex):
`structured_predict` with an image in the prompt, and `as_structured_llm`.

    python examples/llamaindex_receipt.py [--model janus-pro-7b|phi-4-multimodal]

Prompt-based, like `langchain_receipt.py` (see there): one re-ask after a bad answer, then
`hfspaces.structured.StructuredOutputError` with the raw text. Without
`HFSPACES_ENDPOINTS` it runs on the embedded replica, which derives its answer from the
photo's size and colours.
"""

from __future__ import annotations

import argparse

from _receipt import Receipt, receipt_png
from _replica import settings  # also puts the sources on sys.path in a plain checkout
from hfspaces.structured import StructuredOutputError
from llama_index.core.base.llms.types import ChatMessage, ImageBlock, MessageRole, TextBlock
from llama_index.core.prompts import ChatPromptTemplate

from llama_index_hfspaces import HFSpacesLLM


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="janus-pro-7b")
    args = parser.parse_args()
    photo = ImageBlock(image=receipt_png(), image_mimetype="image/png")
    question = ChatMessage(
        role=MessageRole.USER, blocks=[TextBlock(text="Read this receipt from {where}."), photo]
    )
    with settings() as kwargs:
        llm = HFSpacesLLM(model=args.model, **kwargs)
        try:
            prompt = ChatPromptTemplate(message_templates=[question])
            receipt = llm.structured_predict(Receipt, prompt, where="the corner shop")
        except StructuredOutputError as exc:
            print(f"could not read the receipt: {exc}\nthe model answered: {exc.raw_text!r}")
            raise SystemExit(1) from exc
        print(f"merchant: {receipt.merchant}")
        print(f"total: {receipt.total:.2f}")
        print(f"paper colour: {receipt.paper_colour}")
        for item in receipt.items:
            print(f"  - {item.name}: {item.price:.2f}")
        # The same through a structured LLM: its answer's `raw` is the Receipt.
        structured = llm.as_structured_llm(Receipt)
        response = structured.chat([question.model_copy(update={"blocks": [
            TextBlock(text="Read this receipt."), photo]})])  # fmt: skip
        print(f"as_structured_llm: {type(response.raw).__name__} total {response.raw.total:.2f}")
    print("done")


if __name__ == "__main__":
    main()
