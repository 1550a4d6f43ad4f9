"""`python -m onboarding.console`: serve the reviewers' console (see `app`)."""

from onboarding.console.app import main
from onboarding.runtime.entry import leave

leave(main())
