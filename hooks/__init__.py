"""Build machinery: a core that knows nothing of MkDocs, and thin MkDocs hook files over it."""
