"""`facepass`: the command line of the service, the worker, the tools and the benchmarks."""

from __future__ import annotations

import importlib

import click

from facepass import __version__
from facepass.cli.groups import bench_group, eval_group, faces_group, models_group

# Modules that add commands to `main` or to the groups above, imported for that side effect.
_COMMAND_MODULES = (
    "facepass.cli.serve",
    "facepass.cli.faces",
    "facepass.cli.eval",
    "facepass.cli.bench",
    "facepass.cli.models",
    "facepass.cli.photos",
    "facepass.cli.privacy",
    "facepass.cli.people",
)


@click.group()
@click.version_option(__version__, prog_name="facepass")
def main() -> None:
    """FacePass: guests find their photos of a Pixora session with a selfie."""


main.add_command(faces_group)
main.add_command(eval_group)
main.add_command(bench_group)
main.add_command(models_group)

for _name in _COMMAND_MODULES:
    importlib.import_module(_name)
