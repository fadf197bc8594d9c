"""Declarations: versioned, signed and logged statements of AI involvement per release."""
