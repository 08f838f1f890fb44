"""The chaos suite: one item per experiment of the environment."""
