"""What the wheel carries from the top of the source tree: the suites (checks/, chaos/, dr/,
load/), the reference environment (opsproof.yaml) and its fixtures (fixtures/).

They stay where a reader of the repository looks for them; ``setup.py`` maps each directory
into this package, so an editable install and a wheel find them the same way
(``opsproof.paths``).
"""
