"""BuildTrace Desktop: find every change between two revisions of a drawing set."""

import sys

__version__ = "0.1.0"

# PyMuPDF 2 imports its layout-analysis model (onnxruntime, ~50 MB) on every import: 0.4 s at each start
# of the app and of every worker process. We never use layout analysis or markdown, so keep them out.
if "pymupdf" not in sys.modules:
    sys.modules.setdefault("pymupdf.layout", None)
    sys.modules.setdefault("pymupdf4llm", None)  # markdown export, imported eagerly too; unused here
