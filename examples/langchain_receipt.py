"""Read a receipt photo into a typed object with ChatHFSpaces.with_structured_output.

    python examples/langchain_receipt.py [--model janus-pro-7b|phi-4-multimodal]

Structured output over Spaces is prompt-based (the Spaces have no JSON mode): the schema
goes into the prompt, the answer is parsed and validated, a bad answer is asked about once
more, and then `StructuredOutputError` carries the raw text. With `include_raw=True` the
raw message and any parsing error come back instead of raising.

Uses the Spaces named in `HFSPACES_ENDPOINTS` when set; otherwise it starts the embedded
replica, whose stand-in models answer with a valid instance derived from what they compute
about the image (size, colours) — they do not read the text on it.
"""

from __future__ import annotations

import argparse
import base64

from _receipt import Receipt, receipt_png
from _replica import settings  # also puts the sources on sys.path in a plain checkout
from langchain_core.messages import HumanMessage

from langchain_hfspaces import ChatHFSpaces


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="janus-pro-7b")
    args = parser.parse_args()
    photo = base64.b64encode(receipt_png()).decode()
    message = HumanMessage(
        [
            {"type": "text", "text": "Read this receipt."},
            {"type": "image", "base64": photo, "mime_type": "image/png"},
        ]
    )
    with settings() as kwargs:
        llm = ChatHFSpaces(model=args.model, **kwargs)
        result = llm.with_structured_output(Receipt, include_raw=True).invoke([message])
        if result["parsing_error"] is not None:
            print(f"could not read the receipt: {result['parsing_error']}")
            print(f"the model answered: {result['raw'].text!r}")
            raise SystemExit(1)
        receipt: Receipt = result["parsed"]
        print(f"merchant: {receipt.merchant}")
        print(f"total: {receipt.total:.2f}")
        print(f"paper colour: {receipt.paper_colour}")
        for item in receipt.items:
            print(f"  - {item.name}: {item.price:.2f}")
    print("done")


if __name__ == "__main__":
    main()
