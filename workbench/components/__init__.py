"""One Viewer per file; each reads a store."""
