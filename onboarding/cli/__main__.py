"""`python -m onboarding.cli`: the `onboarding` command."""

from onboarding.cli.main import entry

entry()
