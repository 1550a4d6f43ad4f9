"""`python -m onboarding.console`: serve the reviewers' console (see `app`)."""

from onboarding.runtime.entry import leave
from onboarding.runtime.logs import configure_logging

# JSON lines from the first import on: a library warns as the console's modules load.
configure_logging()

from onboarding.console.app import main  # noqa: E402

leave(main())
