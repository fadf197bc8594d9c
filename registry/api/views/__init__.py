"""API views: thin — parse, call selectors/services, render."""
