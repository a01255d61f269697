"""The soak and load tier reuses the end-to-end tests' harness (tests/e2e): their conftest (loaded
here under the name e2e_conftest, since this file is the tier's own conftest), the relay and the
raw-protocol helpers."""
import importlib.util
import os
import sys

E2E = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "e2e"))
sys.path.insert(0, E2E)

_spec = importlib.util.spec_from_file_location("e2e_conftest", os.path.join(E2E, "conftest.py"))
e2e_conftest = importlib.util.module_from_spec(_spec)
sys.modules["e2e_conftest"] = e2e_conftest
_spec.loader.exec_module(e2e_conftest)

from e2e_conftest import workdir  # noqa: E402,F401  (a fixture, registered by being imported here)
