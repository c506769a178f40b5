"""The registry's nginx in its container: the shared container checks, on this scenario's registry."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, 'shared'))

# The tests are the shared module's: pytest collects what this module holds.
from test_server_container import *  # noqa: E402,F401,F403  pylint: disable=wildcard-import,unused-wildcard-import


@pytest.fixture(scope='module')
def host(hosts_in):
    """Only the registry runs the container (the scenario's --hosts also name the client)."""
    return hosts_in('aci_registries')[0]
