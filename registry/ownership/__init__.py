"""Identifier ownership: labels and distributors claim ISRC registrant and GS1 company prefixes; staff verify them."""
