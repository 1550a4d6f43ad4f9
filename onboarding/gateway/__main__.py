"""`python -m onboarding.gateway`: serve the gateway (see `service`)."""

from onboarding.gateway.service import main
from onboarding.runtime.entry import leave

leave(main())
