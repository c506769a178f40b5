# The walkthrough's app1: bash runs it (exec /bin/bash -c /bin/app1), so it needs no #! line.
echo hello
