"""A pipeline runner for tests: executes the shipped pipeline files themselves (Azure DevOps
YAML, GitHub Actions workflows, the classic task group) on this machine, with aibc installed
the way the pipelines install it and every Azure call going to the fake ARM and Azurite.
See tests/python/README.md, "Pipeline journeys"."""

from .ado import AdoResult, AdoRunner
from .agent import Cancel, Machine, ReleaseServer
from .classic import ClassicRunner
from .github import GhResult, GithubRunner

__all__ = ["AdoResult", "AdoRunner", "Cancel", "ClassicRunner", "GhResult", "GithubRunner", "Machine",
           "ReleaseServer"]
