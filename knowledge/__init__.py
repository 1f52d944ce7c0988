"""Knowledge: loaders, chunking, embedders, vector stores, gating, hybrid retrieval, ingest.

Submodules are imported on use; importing ``knowledge`` loads no model and opens nothing.
"""

__all__: list[str] = []
