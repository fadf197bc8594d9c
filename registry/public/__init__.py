"""Public disclosure pages: search, releases, recordings, artists, labels, transparency."""
