"""Configuration: the environment model (``models``) and its loader (``loader``). Nothing is
imported here: a Locust worker needs a flow step's models (``flow_steps``), not the loader."""
