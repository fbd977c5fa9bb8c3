"""Pure `DataFrame -> HoloViews` functions: no I/O, no state, testable without a server."""
