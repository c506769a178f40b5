"""The registry's nginx under docker on the Flatcar-like host: the shared container checks."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, 'shared'))

from test_server_container import *  # noqa: E402,F401,F403  (the tests are the shared module's)

testinfra_hosts = ['podman://aci-fc-reg']
