"""The load suite: one run of a k6-style profile, one item per threshold."""
