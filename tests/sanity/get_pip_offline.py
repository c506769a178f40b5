"""Stand-in for the get-pip.py that ansible-test downloads to bootstrap its test venvs.

ansible-test fetches that script from a host this project cannot reach, but first looks in its
cache (~/.ansible/test/cache/get_pip_<version>.py); tests/sanity/run.sh puts this file there.
It does what get-pip.py does, with the pip wheel that Python's own ensurepip ships: run
``pip install`` with the arguments ansible-test passes (which name the pip version it wants,
then fetched from PyPI like every other sanity requirement).
"""

import glob
import os
import sys

import ensurepip

bundled = glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), '_bundled', 'pip-*.whl'))
if not bundled:
    sys.exit('get_pip_offline: this Python has no bundled pip wheel (on Debian: apt-get install python3-venv)')
sys.path.insert(0, bundled[0])

from pip._internal.cli.main import main  # noqa: E402  (importable only once the wheel is on sys.path)

# get-pip.py's own flags: they ask it not to add setuptools/wheel, which plain pip never does.
args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
sys.exit(main(['install', '--upgrade', '--force-reinstall'] + args))
