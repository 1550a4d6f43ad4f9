"""`python -m onboarding.gateway`: serve the gateway (see `app`)."""

from onboarding.gateway.app import main
from onboarding.runtime.entry import leave

leave(main())
