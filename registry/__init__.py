"""The Django project of the AI disclosure registry."""
