"""Generator of the golden data under golden/ (see golden/README.md)."""
