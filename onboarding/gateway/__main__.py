"""`python -m onboarding.gateway`: serve the gateway (see `app`)."""

import os
import sys

from onboarding.gateway.app import main

code = main()
# Skip interpreter teardown, which the Temporal runtime's threads can abort
# (temporalio/sdk-python issue #300) after the one line of an error was printed.
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
