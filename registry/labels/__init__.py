"""Label side of the site: onboarding, releases, declaration forms, tokens, members."""
