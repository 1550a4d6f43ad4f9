"""The `onboarding` command (`main`), and what its subcommands explain (`explain`)."""
