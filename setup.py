"""The one thing pyproject.toml cannot say: the wheel carries the top-level suites and fixtures.

checks/, chaos/, dr/, load/ and fixtures/ stay where a reader of the repository looks for them;
each is mapped into the ``opsproof.shipped`` package, so ``pip install opsproof`` brings every
suite and the reference environment, found through ``opsproof.paths`` (editable or wheel alike).
"""

from setuptools import find_namespace_packages, find_packages, setup

SHIPPED = {
    f"opsproof.shipped.{name}": name for name in ("checks", "chaos", "dr", "load", "fixtures")
}
"""Package → the top-level directory it is built from."""

mapped = [
    f"{package}.{sub}" if sub else package
    for package, directory in SHIPPED.items()
    for sub in ["", *find_packages(directory)]
]
# namespace discovery: a package of ours without __init__.py (opsproof.faults) is still shipped
engine = find_namespace_packages(include=["opsproof", "opsproof.*"], exclude=["*.__pycache__"])
setup(packages=engine + mapped, package_dir=SHIPPED)
