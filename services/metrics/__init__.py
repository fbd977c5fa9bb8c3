"""The metrics function's figures: request minutes from the API, snapshots, EMF output."""
