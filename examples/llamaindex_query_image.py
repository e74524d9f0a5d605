"""Ask a LlamaIndex query engine about a picture: the image node is sent to the Space model
as an `ImageBlock` (`multimodal=True`), and the answer streams back.

    python examples/llamaindex_query_image.py [picture.png] [--model janus-pro-7b]

Uses `HFSPACES_ENDPOINTS` when set (e.g. the real Spaces), else starts the embedded replica.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _replica import endpoints  # also puts the sources on sys.path in a plain checkout
from llama_index.core import SummaryIndex
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import ImageNode

from llama_index_hfspaces import HFSpacesLLM


def sample_picture() -> Path:
    """A picture that ships with the package (the replica's sample), used when none is given."""
    import hfspaces

    return Path(hfspaces.__file__).parent / "replica" / "assets" / "sample.png"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("picture", nargs="?", type=Path, default=sample_picture())
    parser.add_argument("--model", default="phi-4-multimodal", help="or janus-pro-7b")
    parser.add_argument("--question", default="What does this picture show?")
    args = parser.parse_args()

    with endpoints():
        llm = HFSpacesLLM(model=args.model)
        # A summary index needs no embedding model: its retriever returns every node.
        node = ImageNode(image_path=str(args.picture), metadata={"file": args.picture.name})
        retriever = SummaryIndex([node]).as_retriever()
        engine = RetrieverQueryEngine.from_args(retriever, llm=llm, multimodal=True, streaming=True)

        print(f"Asking {llm.metadata.model_name} about {args.picture.name}: {args.question}")
        response = engine.query(args.question)
        for delta in response.response_gen:
            print(delta, end="", flush=True)
        print()
        print(f"(answered from {len(response.source_nodes)} image node)")


if __name__ == "__main__":
    main()
