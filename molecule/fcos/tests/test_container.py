"""The registry's nginx under podman on the Fedora-CoreOS-like host: the shared container checks."""

import os
import sys

import pytest
import testinfra

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, 'shared'))

from test_server_container import *  # noqa: E402,F401,F403  (the tests are the shared module's)


@pytest.fixture(scope='module')
def host():
    """Only the registry runs the container (the scenario's --hosts also name the client)."""
    return testinfra.get_host('podman://aci-fcos-reg')
