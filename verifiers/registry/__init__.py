"""Registry verifiers: adapters for the departments' registries, the local dataset, and the
check of one claim in the handbook's words (see verify.py)."""
from verifiers.registry.adapters import DatasetRegistries, Registries, in_memory
from verifiers.registry.records import FILES, DatasetError, parse_file
from verifiers.registry.verify import Person, RegistryResult, months_between, verify

__all__ = ["DatasetError", "DatasetRegistries", "FILES", "Person", "Registries", "RegistryResult",
           "in_memory", "months_between", "parse_file", "verify"]
